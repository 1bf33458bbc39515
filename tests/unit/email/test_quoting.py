"""split_quoted: what the customer wrote now, apart from history and signature."""

from __future__ import annotations

import pytest

from channel_adapters.email.quoting import split_quoted

NEW = "Hallo,\n\ndas Paket 100234 ist nicht angekommen.\n\nViele Grüße\nAnna Weber"


def test_text_without_markers_is_all_new():
    assert split_quoted(NEW) == (NEW, "")


def test_blank_lines_around_both_parts_are_removed():
    assert split_quoted(f"\n\n{NEW}\n\n\n> alt\n\n") == (NEW, "> alt")


@pytest.mark.parametrize(
    "history",
    [
        "> Guten Tag Frau Weber,\n> Ihre Bestellung wurde versandt.",
        "Am 12.11.2026 um 10:14 schrieb Beispielshop <service@beispielshop.example>:\n> Hallo",
        # Thunderbird wraps a long attribution before the address.
        "Am 12.11.2026 um 10:14 schrieb Beispielshop Kundenservice <\n"
        "service@beispielshop.example>:\n> Hallo",
        # Gmail in German, wrapped before "schrieb".
        "Am Do., 12. Nov. 2026 um 10:14 Uhr\nschrieb Beispielshop <service@beispielshop.example>:",
        "Beispielshop <service@beispielshop.example> schrieb am 12.11.2026 10:14:\n> Hallo",
        "On Thu, 12 Nov 2026 at 10:14, Example Shop <support@shop.example> wrote:\n> Hi",
        "On Thu, Nov 12, 2026 at 10:14 AM Example Shop Support <\nsupport@shop.example> wrote:",
        "Beispielshop schrieb:\n> Hallo",
        "-----Ursprüngliche Nachricht-----\nVon: Beispielshop\nBetreff: Versand",
        "-----Original Message-----\nFrom: Example Shop\nSubject: Shipping",
        "-------- Original-Nachricht --------\nBetreff: Versand",
        "Von: Beispielshop Kundenservice <service@beispielshop.example>\n"
        "Gesendet: Mittwoch, 11. November 2026 16:20\n"
        "An: Weber, Anna <anna.weber@mailbox.example>\n"
        "Betreff: AW: Versand",
        "From: Example Shop <support@shop.example>\nSent: Wednesday, November 11, 2026 4:20 PM\n"
        "To: Tom Baker\nSubject: RE: Shipping",
        # GMX and web.de start the block with the date.
        "Gesendet: Mittwoch, 11. November 2026 um 16:20 Uhr\nVon: service@beispielshop.example\n"
        "An: anna.weber@mailbox.example",
        # Outlook's HTML, converted to text, keeps the bold markers.
        "*Von:* Beispielshop\n*Gesendet:* Mittwoch, 11. November 2026 16:20",
        "________________________________\nVon: Beispielshop\nGesendet: Mittwoch",
        "---------- Forwarded message ---------\nFrom: Example Shop <support@shop.example>",
        "-- \nAnna Weber\nTel. 0170 1234567",
        "--\nAnna Weber",
        "Von meinem iPhone gesendet",
        "Sent from my iPhone",
        "Gesendet von Outlook für Android",
        "Get Outlook for iOS",
        "Diese Nachricht wurde von meinem Android-Mobiltelefon mit GMX Mail gesendet.",
    ],
)
def test_history_and_signature_are_split_off(history):
    assert split_quoted(f"{NEW}\n\n{history}") == (NEW, history)


def test_everything_from_the_first_marker_on_is_history():
    text = f"{NEW}\n\nVon meinem iPhone gesendet\n\n> zitiert\n\nnoch etwas"

    assert split_quoted(text) == (NEW, "Von meinem iPhone gesendet\n\n> zitiert\n\nnoch etwas")


def test_a_greeting_with_name_address_and_order_number_stays_new():
    text = (
        "Bitte um Rückruf.\n\nMit freundlichen Grüßen\nJürgen Müller\nLindenstraße 12\n"
        "80331 München\nBestellnummer 100234"
    )

    assert split_quoted(text) == (text, "")


@pytest.mark.parametrize(
    "text",
    [
        # Customers' own sentences that only look a little like markers.
        "Am Montag habe ich bestellt, und Ihr Kollege schrieb mir dann:\nalles gut.",
        "Betreff: Reklamation\nDatum der Bestellung: 12.11.2026\n\nDie Lampe ist kaputt.",
        "On Monday I wrote to you about order 100552.\nNo answer yet.",
        "Gesendet von DHL am 3.11., angekommen ist nichts.",
        "Preis -- wie vereinbart -- 20 EUR.",
    ],
)
def test_customer_sentences_that_resemble_markers_stay_new(text):
    assert split_quoted(text) == (text, "")


def test_top_quote_with_nothing_added_is_kept_whole():
    text = "Am 12.11.2026 um 10:14 schrieb Beispielshop:\n> Ihre Bestellung wurde versandt."

    assert split_quoted(text) == (text, "")


def test_a_forward_at_the_top_is_the_content():
    text = (
        "---------- Forwarded message ---------\n"
        "Von: Paketdienst <noreply@paket.example>\n"
        "Date: Do., 12. Nov. 2026 um 10:14 Uhr\n"
        "Subject: Zustellung fehlgeschlagen\n"
        "To: <anna.weber@mailbox.example>\n"
        "\n"
        "Ihr Paket 00340434161234567890 konnte nicht zugestellt werden."
    )

    assert split_quoted(text) == (text, "")


def test_a_top_forward_still_loses_the_signature_of_the_forwarded_mail():
    forward = (
        "---------- Forwarded message ---------\n"
        "From: Carrier <noreply@carrier.example>\n"
        "Subject: Delivery failed\n"
        "\n"
        "Your parcel could not be delivered."
    )

    assert split_quoted(f"{forward}\n\n-- \nCarrier Ltd") == (forward, "-- \nCarrier Ltd")
