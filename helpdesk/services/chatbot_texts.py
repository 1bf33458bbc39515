"""What the chatbot says in its own words, in German and English.

Content like the FAQ, not interface text: a shop rewrites these in its own voice, and
the bot speaks the customer's language whatever the agents' interface is set to.
"""

from __future__ import annotations

BOT_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "greeting": "Hallo! Ich bin der Chatbot von Nordlicht Mode. Fragen Sie mich nach "
        "Versandkosten, Lieferzeiten, Öffnungszeiten, Rücksendungen oder wo Ihre Bestellung "
        "ist – oder nach einer Kollegin oder einem Kollegen.",
        "greeting_reply": "Hallo! Wie kann ich Ihnen helfen?",
        "thanks_reply": "Gern geschehen! Kann ich sonst noch etwas für Sie tun?",
        "order_number": "Das schaue ich gern für Sie nach. Wie lautet Ihre Bestellnummer?",
        "order_number_again": "Darin habe ich keine Bestellnummer gefunden. Sie steht in "
        "Ihrer Bestellbestätigung, z. B. 100457.",
        "order_email": "Danke. Mit welcher E-Mail-Adresse haben Sie bestellt?",
        "order_email_again": "Bitte geben Sie die E-Mail-Adresse ein, mit der Sie bestellt haben.",
        "order_not_found": "Ich habe keine Bestellung mit dieser Nummer und E-Mail-Adresse "
        "gefunden. Bitte prüfen Sie die Bestellnummer und versuchen Sie es noch einmal.",
        "handoff_asked": "Sehr gern – ich verbinde Sie mit einer Kollegin oder einem "
        "Kollegen. Einen Moment bitte.",
        "handoff_unsure": "Ich bin nicht sicher, ob ich Sie richtig verstanden habe, und "
        "verbinde Sie mit einer Kollegin oder einem Kollegen. Einen Moment bitte.",
        "offline_ask_email": "Gerade ist niemand aus unserem Team online. Ihr Chat wird zu "
        "einem E-Mail-Ticket und wir antworten so bald wie möglich: Unter welcher "
        "E-Mail-Adresse erreichen wir Sie?",
        "offline_ask_email_again": "Bitte geben Sie Ihre E-Mail-Adresse ein, damit wir Ihnen "
        "per E-Mail antworten können.",
        "offline_by_email": "Gerade ist niemand aus unserem Team online. Ihr Chat wird zu "
        "einem E-Mail-Ticket: Wir antworten Ihnen so bald wie möglich an {email}.",
        "order_cancelled": "Ihre Bestellung {number} wurde storniert.",
        "order_not_shipped": "Ihre Bestellung {number} ist bei uns eingegangen und wird "
        "gepackt; sie hat unser Lager noch nicht verlassen.",
        "order_shipment": "Ihre Bestellung {number} ist {state} ({carrier}).",
        "tracking": "Sendungsnummer: {tracking}",
        "tracking_url": "Sendungsverfolgung: {url}",
        "carrier": "Versanddienstleister",
        "label_created": "versandbereit",
        "in_transit": "unterwegs",
        "out_for_delivery": "heute in der Zustellung",
        "delivered": "zugestellt",
        "exception": "beim Transport aufgehalten (der Versanddienstleister meldet ein Problem)",
    },
    "en": {
        "greeting": "Hello! I am the Nordlicht Mode chatbot. Ask me about shipping costs, "
        "delivery times, opening hours, returns or where your order is – or ask for a "
        "colleague.",
        "greeting_reply": "Hello! How can I help you?",
        "thanks_reply": "You are welcome! Is there anything else I can do for you?",
        "order_number": "I can check that for you. What is your order number?",
        "order_number_again": "I could not find an order number in that. It is in your "
        "order confirmation, e.g. 100457.",
        "order_email": "Thank you. Which e-mail address did you order with?",
        "order_email_again": "Please type the e-mail address you ordered with.",
        "order_not_found": "I could not find an order with this number and e-mail address. "
        "Please check the order number and try again.",
        "handoff_asked": "Of course – I am handing you over to a colleague. One moment please.",
        "handoff_unsure": "I am not sure I understood you correctly, so I am handing you over "
        "to a colleague. One moment please.",
        "offline_ask_email": "Right now no colleague is online. Your chat becomes an e-mail "
        "ticket and we answer as soon as possible: which e-mail address can we reach you at?",
        "offline_ask_email_again": "Please type your e-mail address, so that we can answer "
        "you by e-mail.",
        "offline_by_email": "Right now no colleague is online. Your chat becomes an e-mail "
        "ticket: we will answer you at {email} as soon as possible.",
        "order_cancelled": "Your order {number} was cancelled.",
        "order_not_shipped": "Your order {number} has been received and is being packed; it "
        "has not left our warehouse yet.",
        "order_shipment": "Your order {number} is {state} ({carrier}).",
        "tracking": "Tracking number: {tracking}",
        "tracking_url": "Follow it here: {url}",
        "carrier": "carrier",
        "label_created": "ready for dispatch",
        "in_transit": "on its way",
        "out_for_delivery": "out for delivery today",
        "delivered": "delivered",
        "exception": "held up in transit (the carrier reports a problem)",
    },
}


def bot_text(language: str, key: str, **values: str) -> str:
    """The sentence `key` in `language` (German when the language is unknown)."""
    texts = BOT_TEXTS.get(language) or BOT_TEXTS["de"]
    return texts[key].format(**values) if values else texts[key]
