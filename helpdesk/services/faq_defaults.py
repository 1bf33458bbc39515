"""The standard answers the chatbot starts with, in German and English.

Plain data, read by the migration that creates `faq_entries` and by
`helpdesk.services.faq.install_default_faq()`; admins change them at /admin/faq.
The alternatives are other ways customers ask the same thing (the bot matches a
message against the question and these).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultFaq:
    topic: str
    language: str
    position: int
    question: str
    alternatives: tuple[str, ...]
    answer: str


DEFAULT_FAQ: tuple[DefaultFaq, ...] = (
    DefaultFaq(
        "shipping_costs",
        "de",
        10,
        "Was kostet der Versand?",
        (
            "Wie hoch sind die Versandkosten?",
            "Versandkosten nach Österreich",
            "Ab wann ist der Versand kostenlos?",
            "Kostenloser Versand",
            "Was kostet die Lieferung?",
            "Portokosten",
        ),
        "Der Versand innerhalb Deutschlands kostet 4,95 €, nach Österreich und in die "
        "Schweiz 7,95 €. Ab einem Bestellwert von 50 € liefern wir in Deutschland und "
        "Österreich versandkostenfrei.",
    ),
    DefaultFaq(
        "shipping_costs",
        "en",
        10,
        "How much is shipping?",
        (
            "What are the shipping costs?",
            "How much does delivery cost?",
            "Shipping costs to Austria",
            "Is shipping free?",
            "Free shipping threshold",
            "What do you charge for postage?",
        ),
        "Shipping within Germany costs €4.95, to Austria and Switzerland €7.95. Orders "
        "of €50 or more ship free within Germany and Austria.",
    ),
    DefaultFaq(
        "delivery_times",
        "de",
        20,
        "Wie lange dauert die Lieferung?",
        (
            "Wann kommt meine Bestellung an?",
            "Lieferzeit",
            "Wie schnell liefert ihr?",
            "Wie viele Tage dauert der Versand?",
            "Lieferdauer nach Österreich",
        ),
        "Bestellungen, die werktags bis 14 Uhr eingehen, verschicken wir am selben Tag. "
        "Die Lieferung dauert in Deutschland 1–3 Werktage, nach Österreich und in die "
        "Schweiz 3–5 Werktage.",
    ),
    DefaultFaq(
        "delivery_times",
        "en",
        20,
        "How long does delivery take?",
        (
            "When will my parcel arrive?",
            "Delivery time",
            "How fast do you ship?",
            "How many days does shipping take?",
            "Delivery time to Austria",
        ),
        "Orders placed on a working day before 2 pm leave our warehouse the same day. "
        "Delivery takes 1–3 working days within Germany and 3–5 working days to Austria "
        "and Switzerland.",
    ),
    DefaultFaq(
        "opening_hours",
        "de",
        30,
        "Wann ist der Kundenservice erreichbar?",
        (
            "Öffnungszeiten",
            "Wann habt ihr geöffnet?",
            "Wann kann ich euch anrufen?",
            "Servicezeiten",
            "Seid ihr am Wochenende erreichbar?",
        ),
        "Unser Kundenservice ist montags bis freitags von 8 bis 18 Uhr und samstags von "
        "9 bis 14 Uhr für Sie da – im Chat, per E-Mail und unter 040 123 456 78.",
    ),
    DefaultFaq(
        "opening_hours",
        "en",
        30,
        "When is customer service available?",
        (
            "Opening hours",
            "When are you open?",
            "When can I call you?",
            "Service hours",
            "Are you available at the weekend?",
        ),
        "Our customer service is there for you Monday to Friday from 8 am to 6 pm and on "
        "Saturdays from 9 am to 2 pm (German time) – in the chat, by e-mail and on "
        "+49 40 123 456 78.",
    ),
    DefaultFaq(
        "return_policy",
        "de",
        40,
        "Wie kann ich etwas zurückschicken?",
        (
            "Rückgabe",
            "Wie lange habe ich Rückgaberecht?",
            "Retoure anmelden",
            "Ist die Rücksendung kostenlos?",
            "Umtausch in eine andere Größe",
            "Rücksendefrist",
        ),
        "Sie können Artikel innerhalb von 30 Tagen nach Erhalt kostenlos zurückschicken "
        "oder in eine andere Größe umtauschen. Melden Sie die Rücksendung einfach in "
        "unserem Retourenportal unter /returns an – mit Bestellnummer und E-Mail-Adresse.",
    ),
    DefaultFaq(
        "return_policy",
        "en",
        40,
        "How do I return something?",
        (
            "Return policy",
            "How long do I have to return an item?",
            "Register a return",
            "Are returns free?",
            "Exchange for another size",
            "Return deadline",
        ),
        "You can return items free of charge within 30 days of receiving them, or "
        "exchange them for another size. Register the return in our returns portal at "
        "/returns with your order number and e-mail address.",
    ),
)
