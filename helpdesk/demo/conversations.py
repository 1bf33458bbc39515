"""Demo data: German and English customer personas and their multi-channel conversations."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    key: str  # short unique key, e.g. "anna"
    name: str
    language: str  # "de" or "en"
    email: str | None = None
    phone: str | None = None  # E.164, e.g. "+4915112345678"
    messenger_id: str | None = None  # page-scoped id, digits
    instagram_id: str | None = None  # digits
    x_id: str | None = None  # digits
    chat_visitor_id: str | None = None  # e.g. "v-7f3a..."


@dataclass(frozen=True)
class Turn:
    who: str  # "customer", "agent", "note" (internal note by agent), "bot" (chat bot)
    text: str
    minutes: int  # minutes after the conversation started
    agent: str | None = None  # for agent/note turns: demo login email, one of
    # agent@example.com, lead@example.com, social@example.com, admin@example.com


@dataclass(frozen=True)
class Conversation:
    persona: str  # Persona.key
    channel: str  # one of: email, chat, messenger, instagram, whatsapp, x, phone
    subject: str  # email subject; for other channels a short summary line
    started_days_ago: float  # how long ago the first turn was, 0.1 .. 30
    turns: tuple[Turn, ...]
    status: str = "open"  # final ticket status: new, open, pending, on_hold, solved, closed
    priority: str = "normal"  # low, normal, high, urgent
    tags: tuple[str, ...] = ()


# Demo logins used as authors of agent replies and internal notes.
AGENT = "agent@example.com"  # Julia Brandt, customer service
LEAD = "lead@example.com"  # Stefan Kowalski, team lead
SOCIAL = "social@example.com"  # Nina, social media care
ADMIN = "admin@example.com"  # Tom, admin

PERSONAS: tuple[Persona, ...] = (
    # German-speaking customers (DE / AT / CH)
    Persona(
        "anna",
        "Anna Schneider",
        "de",
        email="anna.schneider@example.com",
        instagram_id="17841402938475610",
    ),
    Persona("markus", "Markus Weber", "de", email="m.weber@example.net", phone="+4915123847561"),
    Persona(
        "sabine",
        "Sabine Hoffmann",
        "de",
        email="sabine.hoffmann@example.org",
        messenger_id="7340218845912067",
        chat_visitor_id="v-3c9e1a7b52d4",
    ),
    Persona(
        "lukas",
        "Lukas Brandstätter",
        "de",
        email="lukas.brandstaetter@example.com",
        phone="+436641872934",
    ),
    Persona(
        "claudia",
        "Claudia Meier",
        "de",
        email="claudia.meier@example.net",
        chat_visitor_id="v-7f3a0d91c4e8",
    ),
    Persona(
        "jonas",
        "Jonas Fischer",
        "de",
        email="jonas.fischer@example.com",
        x_id="1283746592018374656",
        chat_visitor_id="v-b81e44f02a6c",
    ),
    Persona(
        "petra",
        "Petra Wagner",
        "de",
        email="petra.wagner@example.net",
        phone="+4915904418273",
    ),
    Persona("kevin", "Kevin Schulz", "de", phone="+4917623918450", messenger_id="6829104473815520"),
    Persona(
        "lea",
        "Lea Zimmermann",
        "de",
        email="lea.zimmermann@example.com",
        instagram_id="17841458823104492",
    ),
    Persona(
        "thomas",
        "Dr. Thomas Gruber",
        "de",
        email="t.gruber@example.org",
        phone="+436769183402",
    ),
    Persona(
        "melanie",
        "Melanie Krüger",
        "de",
        email="melanie.krueger@example.com",
        phone="+4915788823417",
    ),
    Persona(
        "reto",
        "Reto Baumann",
        "de",
        email="reto.baumann@example.net",
        messenger_id="5917720384461239",
    ),
    Persona("heike", "Heike Bauer", "de", email="heike.bauer@example.de"),
    Persona(
        "katrin",
        "Katrin Vogel",
        "de",
        email="k.vogel@example.org",
        phone="+4916094412873",
        x_id="3190284756",
    ),
    # English-speaking customers (UK / IE / US)
    Persona(
        "emily",
        "Emily Clarke",
        "en",
        email="emily.clarke@example.com",
        instagram_id="17841446015528376",
    ),
    Persona(
        "james",
        "James O'Connor",
        "en",
        email="james.oconnor@example.net",
        x_id="1602938475012345678",
    ),
    Persona(
        "sarah",
        "Sarah Mitchell",
        "en",
        email="sarah.mitchell@example.com",
        phone="+15125550147",
        chat_visitor_id="v-e24c7a1f90b3",
    ),
    Persona(
        "olivia",
        "Olivia Bennett",
        "en",
        phone="+447700900482",
        instagram_id="17841400192837465",
    ),
    Persona("david", "David Thompson", "en", email="d.thompson@example.org", phone="+447700900317"),
    Persona(
        "megan",
        "Megan Walsh",
        "en",
        email="megan.walsh@example.com",
        messenger_id="4471920385517702",
    ),
    Persona("ryan", "Ryan Patel", "en", x_id="748291036"),
    Persona(
        "hannah",
        "Hannah Brooks",
        "en",
        email="hannah.brooks@example.net",
        chat_visitor_id="v-19d5b6e3a870",
    ),
    Persona(
        "george",
        "George Harris",
        "en",
        email="george.harris@example.org",
        phone="+447700900845",
    ),
    Persona("chloe", "Chloe Murphy", "en", phone="+353861947250", instagram_id="17841462230018845"),
    Persona(
        "michael",
        "Michael Reynolds",
        "en",
        email="mreynolds@example.com",
        phone="+13125550182",
        messenger_id="8205519374460128",
    ),
    Persona(
        "priya",
        "Priya Shah",
        "en",
        email="priya.shah@example.net",
        chat_visitor_id="v-5a0f8c2d71e9",
    ),
)

CONVERSATIONS: tuple[Conversation, ...] = (
    # German-language tickets
    Conversation(
        persona="anna",
        channel="email",
        subject="Umtausch Kleid Bestellung 100234 – zu klein",
        started_days_ago=6.2,
        status="solved",
        tags=("umtausch", "retoure"),
        turns=(
            Turn(
                "customer",
                "Hallo liebes Team,\n\n"
                "ich habe am Wochenende das Sommerkleid „Mia“ in Größe 38 bekommen (Bestellung "
                "100234). Leider ist es obenrum viel zu eng, ich krieg den Reißverschluss kaum "
                "zu 🙈 Der Stoff ist aber so schön, deshalb würde ich es lieber in Größe 40 "
                "umtauschen statt zurückschicken.\n\n"
                "Geht das? Und muss ich den Rücksendeschein selbst ausdrucken oder legt ihr "
                "einen bei?\n\n"
                "Viele Grüße\n"
                "Anna Schneider\n"
                "Venloer Str. 212\n"
                "50823 Köln",
                0,
            ),
            Turn(
                "note",
                "Kundin hat nachgehakt per Instagram, dort beantwortet. Umtausch 100234 Gr. 38 "
                "-> 40 angelegt, 40 reserviert. Label geht per Mail raus.",
                4470,
                SOCIAL,
            ),
            Turn(
                "agent",
                "Hallo Frau Schneider,\n\n"
                "wie eben per Instagram besprochen, finden Sie im Anhang Ihr kostenloses "
                "DHL-Retourenlabel für Bestellung 100234. Das Kleid „Mia“ in Größe 40 ist für "
                "Sie reserviert und geht raus, sobald die 38 bei uns eingescannt ist.\n\n"
                "Entschuldigen Sie bitte nochmal die lange Wartezeit auf unsere Antwort.\n\n"
                "Viele Grüße\n"
                "Nina\n"
                "Kundenservice",
                4490,
                SOCIAL,
            ),
        ),
    ),
    Conversation(
        persona="anna",
        channel="instagram",
        subject="Nachfrage Umtausch 100234 (Mail unbeantwortet)",
        started_days_ago=3.1,
        status="pending",
        tags=("umtausch", "social"),
        turns=(
            Turn(
                "customer",
                "Hallo ihr Lieben 👋 ich hab euch vor 3 Tagen ne Mail geschrieben wegen "
                "Umtausch (Bestellung 100234, Kleid Mia 38 → 40) und noch nix gehört 😕 Ist "
                "die angekommen?",
                0,
            ),
            Turn(
                "agent",
                "Hallo Anna, sorry, dass du warten musstest! 🙈 Deine Mail ist da, wir hatten "
                "diese Woche echt viele Anfragen. Ich hab den Umtausch eben angelegt: Das "
                "Mia-Kleid in 40 ist für dich reserviert. Das Rücksendelabel kommt gleich per "
                "Mail – einfach das 38er damit kostenlos zurückschicken, sobald es bei uns "
                "ist, geht die 40 raus.",
                22,
                SOCIAL,
            ),
            Turn(
                "customer",
                "Super, danke dir!! 😍 Kann ich das Paket auch bei Hermes abgeben oder nur DHL?",
                31,
            ),
            Turn(
                "agent",
                "Nur DHL, das Label gilt aber für jede Filiale und Packstation 📦 Den QR-Code "
                "kannst du einfach am Handy zeigen, ausdrucken musst du nix.",
                40,
                SOCIAL,
            ),
            Turn("customer", "Perfekt 👍", 44),
        ),
    ),
    Conversation(
        persona="markus",
        channel="email",
        subject="Zahlungserinnerung trotz Rücksendung – Bestellnr. 100871",
        started_days_ago=12.4,
        status="solved",
        priority="high",
        tags=("mahnung", "retoure"),
        turns=(
            Turn(
                "customer",
                "Sehr geehrte Damen und Herren,\n\n"
                "heute habe ich von Ihnen eine Zahlungserinnerung über 89,90 € für die "
                "Bestellnr. 100871 erhalten. Das ist mir unverständlich: Ich habe die "
                "komplette Sendung (2 Hemden, 1 Chino) bereits vor gut zwei Wochen mit dem "
                "beigelegten Retourenschein an Sie zurückgeschickt. Laut "
                "DHL-Sendungsverfolgung (00340434161094015902) wurde das Paket am Folgetag bei "
                "Ihnen zugestellt.\n\n"
                "Ich bitte Sie, die Mahnung umgehend zu stornieren und mir schriftlich zu "
                "bestätigen, dass die Angelegenheit erledigt ist. Für Ware, die ich nicht "
                "behalten habe, werde ich selbstverständlich nichts bezahlen.\n\n"
                "Mit freundlichen Grüßen\n"
                "Markus Weber\n"
                "Leopoldstraße 87\n"
                "80802 München",
                0,
            ),
            Turn(
                "note",
                "Kunde hat heute angerufen (siehe Telefonticket). Retoure ist im Lager "
                "eingegangen, war nur nicht gebucht. Gutschrift erstellt, Mahnung gestoppt, "
                "Mahngebühr storniert.",
                2825,
                AGENT,
            ),
            Turn(
                "agent",
                "Sehr geehrter Herr Weber,\n\n"
                "vielen Dank für Ihre Nachricht und Ihre Geduld. Wie heute am Telefon "
                "besprochen: Die Zahlungserinnerung hätte Sie nicht erreichen dürfen, dafür "
                "entschuldige ich mich.\n\n"
                "Ihre Rücksendung zur Bestellnr. 100871 ist vollständig bei uns eingegangen. "
                "Ich habe die Retoure gebucht, die Rechnung über 89,90 € vollständig "
                "gutgeschrieben und das Mahnverfahren gestoppt, die Mahngebühr von 5,00 € "
                "entfällt. Sie müssen nichts weiter tun; falls sich noch ein Schreiben im "
                "Postweg befindet, können Sie es ignorieren.\n\n"
                "Mit freundlichen Grüßen\n"
                "Julia Brandt\n"
                "Kundenservice",
                2850,
                AGENT,
            ),
            Turn(
                "customer",
                "Danke für die schnelle Klärung nach dem Anruf.\n\nGruß\nM. Weber",
                3400,
            ),
        ),
    ),
    Conversation(
        persona="markus",
        channel="phone",
        subject="Anruf: 2. Mahnung zu 100871 trotz Retoure",
        started_days_ago=10.45,
        status="solved",
        priority="high",
        tags=("mahnung", "retoure", "telefon"),
        turns=(
            Turn(
                "customer",
                "Anrufer meldet: hat vor zwei Tagen wegen Mahnung zu Bestellnr. 100871 "
                "gemailt, keine Antwort. Heute 2. Mahnung mit 5,00 € Mahngebühr im "
                "Briefkasten. Retoure laut DHL längst bei uns zugestellt. Sehr verärgert, "
                "droht mit Verbraucherzentrale.",
                0,
            ),
            Turn(
                "agent",
                "Mit Lager geklärt: Retoure 100871 ist eingegangen, war nur nicht gebucht. "
                "Zugesagt: Gutschrift 89,90 € + Storno Mahngebühr, schriftliche Bestätigung "
                "heute noch per Mail. Kunde hat sich beruhigt.",
                8,
                AGENT,
            ),
            Turn(
                "note",
                "Mahnstufe im ERP zurückgesetzt, Mahngebühr storniert. Antwort läuft im "
                "Mail-Ticket.",
                12,
                AGENT,
            ),
        ),
    ),
    Conversation(
        persona="sabine",
        channel="email",
        subject="Wo bleibt meine Bestellung #100455?",
        started_days_ago=9.3,
        status="solved",
        tags=("lieferstatus",),
        turns=(
            Turn(
                "customer",
                "Hallo,\n\n"
                "ich habe letzten Mittwoch bestellt (#100455) und die Mail bekommen, dass das "
                "Paket verschickt wurde. Aber im Tracking bei DHL steht seit 4 Tagen nur „Die "
                "Sendung wurde elektronisch angekündigt“. Ist da was schiefgelaufen? Ich "
                "brauche die Schuhe eigentlich zum Wochenende für eine Hochzeit.\n\n"
                "Gruß\n"
                "Sabine Hoffmann",
                0,
            ),
            Turn(
                "agent",
                "Hallo Frau Hoffmann,\n\n"
                "danke für Ihre Nachricht. Ich habe nachgesehen: Ihr Paket zur Bestellung "
                "#100455 war bei uns fertig gepackt, wurde aber wegen eines Engpasses bei der "
                "Abholung erst gestern von DHL mitgenommen – das tut mir leid. Die Sendung ist "
                "jetzt unterwegs, Sendungsnummer 00340434161094027318. Laut DHL ist die "
                "Zustellung für morgen geplant, also rechtzeitig vor dem Wochenende.\n\n"
                "Viele Grüße\n"
                "Julia Brandt\n"
                "Kundenservice",
                95,
                AGENT,
            ),
            Turn(
                "customer",
                "Hallo Frau Brandt, ist heute angekommen, passt alles. Danke!!\nS. Hoffmann",
                2010,
            ),
        ),
    ),
    Conversation(
        persona="sabine",
        channel="email",
        subject="Re: Ihre Rücksendung – Erstattung fehlt noch (Bestellung 100512)",
        started_days_ago=2.2,
        status="open",
        tags=("retoure", "erstattung"),
        turns=(
            Turn(
                "customer",
                "Hallo nochmal,\n\n"
                "ich hatte die Jeans und das Top aus Bestellung 100512 vor drei Wochen "
                "zurückgeschickt. Mein Geld (59,95 €) ist bis heute nicht auf meinem PayPal. "
                "In Ihren AGB steht doch Erstattung innerhalb von 14 Tagen?? Ist die Retoure "
                "überhaupt angekommen?\n\n"
                "Sabine Hoffmann",
                0,
            ),
            Turn(
                "agent",
                "Hallo Frau Hoffmann,\n\n"
                "Ihre Rücksendung zur Bestellung 100512 ist am Montag in unserem Lager "
                "angekommen und inzwischen geprüft. Die Erstattung über 59,95 € habe ich heute "
                "an PayPal angewiesen, sie sollte in 1–2 Werktagen auf Ihrem Konto sichtbar "
                "sein.\n\n"
                "Dass die Retoure so lange unterwegs war, lag leider an DHL – dort hing die "
                "Sendung mehrere Tage im Verteilzentrum. Entschuldigen Sie die Wartezeit.\n\n"
                "Viele Grüße\n"
                "Julia Brandt",
                260,
                AGENT,
            ),
            Turn(
                "customer",
                "Ok danke. Aber ehrlich, drei Wochen ist echt zu lang, das nächste mal bestell "
                "ich woanders. Ich schau morgen nochmal bei PayPal ob das Geld da ist.",
                1490,
            ),
        ),
    ),
    Conversation(
        persona="sabine",
        channel="messenger",
        subject="Kauf auf Rechnung möglich?",
        started_days_ago=26.5,
        status="solved",
        tags=("zahlung",),
        turns=(
            Turn(
                "customer",
                "Hallo, kann man bei euch auch auf Rechnung bezahlen? Hab kein PayPal und "
                "keine Kreditkarte",
                0,
            ),
            Turn(
                "agent",
                "Hallo Sabine! Ja, Kauf auf Rechnung geht bei uns über Klarna – du hast dann "
                "14 Tage Zeit zum Bezahlen, kannst also erst anprobieren und nur das bezahlen, "
                "was du behältst. Alternativ gibt es Vorkasse per Überweisung.",
                55,
                SOCIAL,
            ),
            Turn("customer", "Ah super, danke", 70),
        ),
    ),
    Conversation(
        persona="sabine",
        channel="chat",
        subject="Lieferung vor dem Feiertag? Hotline-Zeiten",
        started_days_ago=0.1,
        status="new",
        tags=("versand",),
        turns=(
            Turn(
                "bot",
                "Hallo! 👋 Ich bin der Service-Assistent. Worum geht es? Bestellung · "
                "Rücksendung · Versand · Etwas anderes",
                0,
            ),
            Turn(
                "customer",
                "wenn ich heute bis 14 uhr bestell kommt das dann noch vor dem feiertag an? "
                "und ist eure hotline am feiertag erreichbar?",
                1,
            ),
            Turn(
                "bot",
                "Danke! Eine Mitarbeiterin ist gleich für Sie da. Aktuelle Wartezeit: ca. 5 "
                "Minuten.",
                2,
            ),
            Turn("customer", "hallo?", 9),
        ),
    ),
    Conversation(
        persona="lukas",
        channel="email",
        subject="Versand nach Österreich",
        started_days_ago=20.4,
        status="closed",
        tags=("versand",),
        turns=(
            Turn(
                "customer",
                "Servus,\n\n"
                "ich überleg bei euch zu bestellen und wohn in Graz. Was kostet der Versand "
                "nach Österreich und wie lang dauert das ungefähr? Und wenn mir was nicht "
                "passt, muss ich die Rücksendung selber zahlen?\n\n"
                "Danke & lg\n"
                "Lukas Brandstätter",
                0,
            ),
            Turn(
                "agent",
                "Hallo Herr Brandstätter,\n\n"
                "vielen Dank für Ihr Interesse! Der Versand nach Österreich kostet 5,95 €, ab "
                "einem Bestellwert von 75 € ist er kostenlos. Die Lieferzeit beträgt in der "
                "Regel 3–5 Werktage, zugestellt wird in Österreich von der Post.\n\n"
                "Rücksendungen sind innerhalb von 30 Tagen möglich und auch aus Österreich "
                "kostenlos: Sie erstellen das Label einfach in Ihrem Kundenkonto unter „Meine "
                "Bestellungen“ und geben das Paket bei jeder Post-Filiale ab.\n\n"
                "Bei Fragen erreichen Sie uns Mo–Fr von 8 bis 18 Uhr auch telefonisch.\n\n"
                "Liebe Grüße nach Graz\n"
                "Julia Brandt\n"
                "Kundenservice",
                180,
                AGENT,
            ),
            Turn("customer", "Super, danke für die schnelle Antwort! lg Lukas", 400),
        ),
    ),
    Conversation(
        persona="lukas",
        channel="whatsapp",
        subject="Lieferstatus 100618 + Lieferadresse ändern",
        started_days_ago=1.1,
        status="open",
        tags=("lieferstatus", "adresse"),
        turns=(
            Turn(
                "customer",
                "Servus! Hab am Montag bestellt, Nr 100618. Wann kommt die ungefähr?",
                0,
            ),
            Turn(
                "customer",
                "Und kann man noch die Adresse ändern? Bin ab Freitag bei meiner Freundin in "
                "Wien, wär besser dorthin 🙏",
                2,
            ),
            Turn(
                "agent",
                "Hallo Lukas, danke für deine Nachricht! Deine Bestellung 100618 wurde leider "
                "schon gestern an die Post übergeben, daher können wir die Adresse bei uns "
                "nicht mehr ändern. Du kannst aber bei der Österreichischen Post mit der "
                "Sendungsnummer eine Umleitung beauftragen oder die Abholung in einer Filiale "
                "wählen. Voraussichtliche Zustellung ist Donnerstag.",
                48,
                AGENT,
            ),
            Turn(
                "customer",
                "Ah ok schade. Und die Sendungsnummer? Hab keine Mail bekommen",
                63,
            ),
        ),
    ),
    Conversation(
        persona="claudia",
        channel="chat",
        subject="Doppelte Bestellung 100702/100703 stornieren",
        started_days_ago=4.3,
        status="open",
        tags=("storno", "schweiz"),
        turns=(
            Turn(
                "bot",
                "Hallo! 👋 Ich bin der Service-Assistent. Worum geht es? Bestellung · "
                "Rücksendung · Versand · Etwas anderes",
                0,
            ),
            Turn("customer", "Stornierung", 1),
            Turn(
                "bot",
                "Gerne. Bitte nennen Sie Ihre Bestellnummer, ich verbinde Sie dann mit einer "
                "Mitarbeiterin.",
                2,
            ),
            Turn(
                "customer",
                "Grüezi, ich habe gestern aus Versehen zweimal bestellt, 100702 und 100703, "
                "beides gleich (Pullover grau Gr. M). Bitte eine davon stornieren, danke",
                3,
            ),
            Turn(
                "agent",
                "Grüezi Frau Meier, danke, dass Sie sich so schnell melden! Ich sehe beide "
                "Bestellungen. Die 100703 habe ich eben storniert, die 79,90 € werden Ihrer "
                "Karte nicht belastet. Die 100702 geht heute wie geplant raus.",
                14,
                AGENT,
            ),
            Turn(
                "customer",
                "Merci vielmal. Muss ich bei der anderen Bestellung Zoll bezahlen? Beim "
                "letzten Mal musste ich der Post noch etwas bezahlen.",
                17,
            ),
            Turn(
                "agent",
                "Nein, in die Schweiz versenden wir verzollt, das heißt Zoll und "
                "Mehrwertsteuer sind im Preis schon enthalten. Die Post sollte bei der "
                "Zustellung nichts mehr von Ihnen verlangen.",
                21,
                AGENT,
            ),
            Turn(
                "customer",
                "Gut. Kann ich die Rechnung auch in CHF bekommen? Brauche das für die "
                "Spesenabrechnung.",
                26,
            ),
        ),
    ),
    Conversation(
        persona="claudia",
        channel="email",
        subject="Zollgebühren bezahlt obwohl verzollt – Bestellung 100702",
        started_days_ago=0.6,
        status="pending",
        tags=("zoll", "schweiz", "erstattung"),
        turns=(
            Turn(
                "customer",
                "Guten Tag\n\n"
                "Im Chat wurde mir letzte Woche gesagt, dass die Bestellung 100702 verzollt "
                "geliefert wird. Heute hat die Post trotzdem 18.50 CHF Verzollungsgebühr und "
                "MWST verlangt, sonst hätte ich das Paket nicht bekommen. Ich habe bezahlt, "
                "die Quittung ist im Anhang.\n\n"
                "Bitte erstatten Sie mir diesen Betrag. Ausserdem warte ich immer noch auf die "
                "Rechnung in CHF.\n\n"
                "Freundliche Grüsse\n"
                "Claudia Meier\n"
                "Seefeldstrasse 45\n"
                "8008 Zürich",
                0,
            ),
            Turn(
                "note",
                "100702 ist offenbar als DAP statt DDP an die Post übergeben worden, Logistik "
                "prüft den Fehler. Kulanz 18.50 CHF Erstattung ist freigegeben. – Stefan",
                180,
                LEAD,
            ),
            Turn(
                "agent",
                "Guten Tag Frau Meier,\n\n"
                "es tut mir sehr leid, dass Sie an der Tür zahlen mussten – das hätte nicht "
                "passieren dürfen. Ihre Bestellung 100702 wurde bei der Übergabe an die Post "
                "leider falsch gekennzeichnet. Die 18.50 CHF erstatten wir Ihnen "
                "selbstverständlich. Möchten Sie den Betrag auf die Kreditkarte zurück, mit "
                "der Sie bezahlt haben, oder lieber per Überweisung? Dann senden Sie mir bitte "
                "Ihre IBAN.\n\n"
                "Die Rechnung in CHF finden Sie im Anhang.\n\n"
                "Freundliche Grüße\n"
                "Julia Brandt\n"
                "Kundenservice",
                205,
                AGENT,
            ),
        ),
    ),
    Conversation(
        persona="jonas",
        channel="chat",
        subject="Größenberatung Winterjacke „Bergen“",
        started_days_ago=15.2,
        status="solved",
        tags=("produktfrage",),
        turns=(
            Turn(
                "bot",
                "Hallo! 👋 Ich bin der Service-Assistent. Worum geht es? Bestellung · "
                "Rücksendung · Versand · Etwas anderes",
                0,
            ),
            Turn("customer", "hi, kurze frage zur jacke bergen", 1),
            Turn(
                "customer",
                "fällt die eher klein oder gross aus? bin 1,84, ca 80kg und trag sonst L",
                2,
            ),
            Turn(
                "agent",
                "Hi! Die Bergen ist regulär bis leicht weit geschnitten, damit ein dicker "
                "Pulli drunter passt. Bei 1,84 m und sonst L nimmst du am besten L. Die "
                "Ärmellänge bei L ist 66 cm.",
                12,
                AGENT,
            ),
            Turn("customer", "und ist die wasserdicht oder nur wasserabweisend?", 15),
            Turn(
                "agent",
                "Wasserdicht: 10.000 mm Wassersäule, die Nähte sind verschweißt. Gefüttert ist "
                "sie mit recyceltem Polyester, keine Daunen.",
                18,
                AGENT,
            ),
            Turn("customer", "top danke, dann bestell ich L", 20),
        ),
    ),
    Conversation(
        persona="jonas",
        channel="x",
        subject="Öffentliche Beschwerde: Refund für #100389 fehlt",
        started_days_ago=1.5,
        status="pending",
        priority="high",
        tags=("erstattung", "social"),
        turns=(
            Turn(
                "customer",
                "@shop seit 10 tagen warte ich auf meinen refund für #100389 (129€). 2 mails, "
                "null antwort. echt stark 👏",
                0,
            ),
            Turn(
                "agent",
                "Hi Jonas, das ist ärgerlich, sorry! Schreib uns bitte kurz per DM deine "
                "E-Mail-Adresse, dann schaue ich mir die Erstattung zu #100389 sofort an. ^Nina",
                35,
                SOCIAL,
            ),
            Turn("customer", "DM ist raus", 50),
            Turn(
                "note",
                "Kunde per DM: jonas.fischer@example.com. Retoure #100389 seit 8 Tagen im "
                "Lager, hängt in der QS (Jacke angeblich mit Fleck). @lead kannst du die "
                "Erstattung freigeben? Post hat schon 14 Likes.",
                58,
                SOCIAL,
            ),
            Turn(
                "agent",
                "Danke dir, hab deine Nachricht. Deine Retoure ist bei uns angekommen und "
                "hängt gerade noch in der Prüfung. Ich melde mich morgen bis 12 Uhr per DM mit "
                "dem Stand. ^Nina",
                70,
                SOCIAL,
            ),
        ),
    ),
    Conversation(
        persona="petra",
        channel="phone",
        subject="Anruf: Teeservice beschädigt geliefert (100145)",
        started_days_ago=8.1,
        status="open",
        tags=("beschaedigt", "telefon"),
        turns=(
            Turn(
                "customer",
                "Anruferin meldet: Paket zu Bestellung 100145 heute angekommen, Karton war "
                "nass und eingedrückt. Im Teeservice „Rosalie“ (12-teilig) sind zwei Tassen "
                "und eine Untertasse zerbrochen. Hat Fotos mit dem Handy gemacht, weiß aber "
                "nicht, wie sie die schicken soll. Möchte kein Geld zurück, sondern Ersatz – "
                "das Service ist ein Geschenk zum 70. Geburtstag ihrer Schwester.",
                0,
            ),
            Turn(
                "agent",
                "Zugesagt: kostenloser Ersatz für 2 Tassen + 1 Untertasse, Scherben müssen "
                "nicht zurückgeschickt werden. Enkelin schickt die Fotos per Mail. Lieferung "
                "ca. 3–4 Werktage nach Freigabe.",
                9,
                AGENT,
            ),
            Turn(
                "note",
                "Lager: Rosalie-Tassen einzeln vorrätig, Untertasse aber nur im Set. @lead "
                "dürfen wir ein Set aufmachen?",
                15,
                AGENT,
            ),
            Turn(
                "note",
                "Ja, Set aufmachen ist ok. Ersatz als 0-€-Auftrag anlegen.",
                140,
                LEAD,
            ),
        ),
    ),
    Conversation(
        persona="petra",
        channel="email",
        subject="Fotos Bruchschaden Bestellung 100145",
        started_days_ago=7.2,
        status="open",
        tags=("beschaedigt",),
        turns=(
            Turn(
                "customer",
                "Sehr geehrte Damen und Herren,\n\n"
                "wie gestern mit Ihrer Kollegin am Telefon besprochen, schicke ich Ihnen die "
                "Fotos von dem kaputten Geschirr. Meine Enkelin hilft mir dabei. Die "
                "Bestellnummer ist 100145.\n\n"
                "Bitte teilen Sie mir mit, wann die Ersatztassen kommen, der Geburtstag meiner "
                "Schwester ist am Samstag in einer Woche.\n\n"
                "Mit freundlichen Grüßen\n"
                "Petra Wagner\n"
                "Gellertstraße 14\n"
                "30175 Hannover",
                0,
            ),
            Turn(
                "agent",
                "Sehr geehrte Frau Wagner,\n\n"
                "herzlichen Dank für die Fotos, sie sind gut angekommen – und grüßen Sie bitte "
                "Ihre Enkelin! Wir haben den Ersatz (2 Tassen und 1 Untertasse „Rosalie“) "
                "heute als kostenlose Nachlieferung mit der Nummer 100812 angelegt. Das Paket "
                "geht morgen raus und sollte bis Mittwoch bei Ihnen sein, also rechtzeitig zum "
                "Geburtstag.\n\n"
                "Mit freundlichen Grüßen\n"
                "Julia Brandt\n"
                "Kundenservice",
                300,
                AGENT,
            ),
            Turn(
                "customer",
                "Sehr geehrte Frau Brandt,\n"
                "vielen Dank. Bekomme ich auch eine Sendungsnummer? Dann kann meine Enkelin "
                "nachschauen.\n"
                "MfG P. Wagner",
                1700,
            ),
        ),
    ),
    Conversation(
        persona="kevin",
        channel="messenger",
        subject="Falsche Farbe geliefert – Hoodie 100733",
        started_days_ago=7.4,
        status="pending",
        tags=("falscher-artikel", "umtausch"),
        turns=(
            Turn(
                "customer",
                "hey, hab heute meinen hoodie bekommen aber falsche farbe. bestellt hab ich "
                "schwarz, gekommen ist dunkelblau 🙄 bestellnr 100733",
                0,
            ),
            Turn("customer", "grösse L passt aber", 1),
            Turn(
                "agent",
                "Hi Kevin, oh nein, sorry für die Verwechslung! Ich hab dir einen kostenlosen "
                "Umtausch angelegt: Schick den dunkelblauen Hoodie einfach mit dem "
                "Retourenlabel zurück, das du gleich per Mail bekommst. Der schwarze in L ist "
                "für dich reserviert.",
                95,
                SOCIAL,
            ),
            Turn(
                "customer",
                "geht das nicht schneller? brauch den eigentlich am wochenende",
                130,
            ),
            Turn(
                "agent",
                "Verstehe ich! Ausnahmsweise schicken wir dir den schwarzen schon morgen los, "
                "den blauen schickst du dann in Ruhe zurück 👍",
                150,
                SOCIAL,
            ),
            Turn("customer", "nice danke 👍", 155),
        ),
    ),
    Conversation(
        persona="kevin",
        channel="whatsapp",
        subject="Zahlungserinnerung Hoodie 100733 trotz Rücksendung",
        started_days_ago=1.2,
        status="new",
        priority="high",
        tags=("mahnung", "retoure"),
        turns=(
            Turn(
                "customer",
                "Hi, hier Kevin Schulz. Hab euch wegen dem Hoodie schon über Facebook "
                "geschrieben. Jetzt krieg ich ne Zahlungserinnerung über 49,99 € ?!? Hab die "
                "Rueckgabe vom blauen doch letzte woche gemacht wie abgemacht",
                0,
            ),
            Turn(
                "customer",
                "Bestellnr 100733. Paketschein hab ich noch, DHL 00340434161094061245",
                3,
            ),
            Turn("customer", "Hallo?? Antwortet hier auch mal jemand", 980),
        ),
    ),
    Conversation(
        persona="lea",
        channel="instagram",
        subject="Tasche „Lina“ in Cognac? Laptop 13 Zoll",
        started_days_ago=11.3,
        status="solved",
        tags=("produktfrage", "lob"),
        turns=(
            Turn(
                "customer",
                "Omg die Tasche aus eurem letzten Post ist sooo schön 😍😍 gibts die auch in "
                "cognac? und passt da ein 13 zoll laptop rein?",
                0,
            ),
            Turn(
                "agent",
                "Hi Lea, danke dir, das freut uns total! 🥰 Die „Lina“ gibt's in Schwarz, "
                "Cognac und Salbei – Cognac ist gerade wieder reingekommen. Innen misst sie 36 "
                "× 27 cm, ein 13-Zoll-Laptop passt also gut rein, sogar mit dünner Hülle.",
                210,
                SOCIAL,
            ),
            Turn("customer", "yesss direkt bestellt 🛍️", 260),
            Turn("agent", "Viel Spaß damit! 💛", 275, SOCIAL),
        ),
    ),
    Conversation(
        persona="lea",
        channel="instagram",
        subject="Erstattung Retoure 100590",
        started_days_ago=0.25,
        status="new",
        tags=("erstattung", "retoure"),
        turns=(
            Turn(
                "customer",
                "Hey ihr, kurze Frage: meine Retoure (Bestellung 100590) ist laut DHL seit "
                "letztem Dienstag bei euch. Wann krieg ich mein Geld zurück? 🙏",
                0,
            ),
            Turn("customer", "Trackingnummer falls ihr die braucht: 00340434161094038821", 2),
        ),
    ),
    Conversation(
        persona="lea",
        channel="email",
        subject="Newsletter abbestellen",
        started_days_ago=24.6,
        status="closed",
        tags=("newsletter",),
        turns=(
            Turn(
                "customer",
                "Hallo,\n"
                "bitte nehmt mich aus eurem Newsletter raus, ich krieg grad jeden Tag 2-3 "
                "Mails von euch und der Abmeldelink unten führt nur auf eine Fehlerseite.\n"
                "Danke\n"
                "Lea",
                0,
            ),
            Turn(
                "agent",
                "Hallo Lea,\n\n"
                "sorry für die vielen Mails! Ich habe lea.zimmermann@example.com eben manuell "
                "aus allen Newslettern ausgetragen. Es kann sein, dass noch eine bereits "
                "geplante Mail kommt, danach ist Ruhe. Den kaputten Abmeldelink haben wir an "
                "unser Technik-Team weitergegeben.\n\n"
                "Viele Grüße\n"
                "Tom vom Kundenservice",
                45,
                ADMIN,
            ),
            Turn(
                "note",
                "Abmeldelink im Newsletter-Footer liefert 404, Ticket bei Marketing-Tech eröffnet.",
                50,
                ADMIN,
            ),
        ),
    ),
    Conversation(
        persona="thomas",
        channel="email",
        subject="Bestellung 100901 – Umtausch Anzughose",
        started_days_ago=8.2,
        status="on_hold",
        tags=("vip", "umtausch"),
        turns=(
            Turn(
                "customer",
                "Sehr geehrte Damen und Herren,\n\n"
                "ich habe vergangene Woche bei Ihnen den Anzug „Mailand“ in Dunkelblau, Größe "
                "52, bestellt (Bestellung 100901, 399,00 €). Das Sakko sitzt tadellos, die "
                "Hose ist mir jedoch im Bund deutlich zu weit und auch zu lang. Ist es "
                "möglich, nur die Hose gegen Größe 50 zu tauschen? Das Sakko würde ich gerne "
                "behalten.\n\n"
                "Ich benötige den Anzug für einen Termin in knapp drei Wochen. Für eine kurze "
                "Rückmeldung wäre ich Ihnen dankbar.\n\n"
                "Mit freundlichen Grüßen\n"
                "Dr. Thomas Gruber\n"
                "Gumpendorfer Straße 63\n"
                "1060 Wien",
                0,
            ),
            Turn(
                "note",
                "Stammkunde, 14 Bestellungen, VIP. Hose Mailand 50 einzeln laut System nicht "
                "verfügbar, nur im Set; Nachlieferung Gr. 50 erst in ca. 10 Tagen. @lead "
                "dürfen wir das Set splitten?",
                70,
                AGENT,
            ),
            Turn(
                "note",
                "Ja, splitten ist ok. Bitte kostenlosen Expressversand anbieten, sobald die "
                "Ware da ist. Bis dahin on hold.",
                190,
                LEAD,
            ),
            Turn(
                "agent",
                "Sehr geehrter Herr Dr. Gruber,\n\n"
                "vielen Dank für Ihre Nachricht. Selbstverständlich können Sie das Sakko "
                "behalten und nur die Hose tauschen. Die Hose „Mailand“ in Größe 50 erwarten "
                "wir in ca. 10 Tagen zurück im Lager. Ich habe sie für Sie reserviert; wir "
                "senden sie Ihnen sofort nach Eingang kostenfrei per Express zu, sodass sie "
                "rechtzeitig vor Ihrem Termin bei Ihnen ist.\n\n"
                "Die Hose in Größe 52 können Sie uns in Ruhe mit dem beigefügten Retourenlabel "
                "zurücksenden.\n\n"
                "Mit freundlichen Grüßen\n"
                "Julia Brandt\n"
                "Kundenservice",
                215,
                AGENT,
            ),
            Turn(
                "customer",
                "Sehr geehrte Frau Brandt,\n\n"
                "herzlichen Dank für die unkomplizierte Lösung. Ich warte dann auf Ihre "
                "Nachricht.\n\n"
                "Beste Grüße\n"
                "Th. Gruber",
                1300,
            ),
        ),
    ),
    Conversation(
        persona="thomas",
        channel="phone",
        subject="Anruf Dr. Gruber: Stand Hose Gr. 50 (100901)",
        started_days_ago=1.4,
        status="open",
        tags=("vip", "umtausch", "telefon"),
        turns=(
            Turn(
                "customer",
                "Anrufer (Dr. Gruber, VIP) fragt nach dem Stand Umtausch Hose „Mailand“ Gr. 50 "
                "zu Bestellung 100901. Termin in Salzburg ist in 10 Tagen, wird langsam "
                "nervös. Hose Gr. 52 hat er gestern per Post zurückgeschickt.",
                0,
            ),
            Turn(
                "agent",
                "Wareneingang laut Einkauf verschoben auf nächsten Dienstag. Alternative "
                "angeboten: Hose Gr. 50 aus dem Bestand der Filiale Wien – Kunde findet das "
                "gut und würde sie dort abholen. Rückruf bis morgen 12 Uhr zugesagt.",
                7,
                AGENT,
            ),
            Turn(
                "note",
                "@lead Filiale Wien angefragt, ob sie eine Hose 50 aus einem Set zurücklegen "
                "können. Falls ich morgen früh nicht da bin, bitte Rückruf an Dr. Gruber "
                "übernehmen.",
                25,
                AGENT,
            ),
        ),
    ),
    Conversation(
        persona="melanie",
        channel="whatsapp",
        subject="Zahlungserinnerung 100298 obwohl zurückgeschickt",
        started_days_ago=0.35,
        status="open",
        priority="urgent",
        tags=("mahnung", "retoure"),
        turns=(
            Turn(
                "customer",
                "Hallo, ich hab heute eine ZAHLUNGSERINNERUNG von euch bekommen für Bestellung "
                "100298 über 74,85 € !!! Ich hab das ALLES vor 2 Wochen zurückgeschickt, sogar "
                "mit dem QR Code den ihr mir geschickt habt 😡😡",
                0,
            ),
            Turn(
                "customer",
                "Wenn da jetzt noch Mahngebühren kommen zahl ich die nicht, das sag ich gleich",
                1,
            ),
            Turn(
                "agent",
                "Hallo Frau Krüger, es tut mir leid, dass Sie sich ärgern müssen! Ich kümmere "
                "mich sofort darum. Haben Sie noch die Sendungsnummer oder den "
                "Einlieferungsbeleg Ihrer Rücksendung? Dann kläre ich das direkt mit dem "
                "Lager. Die Zahlungserinnerung zu 100298 habe ich schon pausiert, es kommen "
                "keine Gebühren dazu.",
                28,
                AGENT,
            ),
            Turn("customer", "00340434161094049977 (Foto vom Beleg hängt an)", 41),
            Turn(
                "note",
                "DHL: vor 9 Tagen an unser Retourenlager zugestellt. Im Lager unter 100298 "
                "nicht auffindbar – evtl. falsch zugeordnet? Lager angefragt, Mahnsperre "
                "gesetzt.",
                66,
                AGENT,
            ),
            Turn("customer", "und?? ich hab keine Lust dass das bei Inkasso landet", 300),
        ),
    ),
    Conversation(
        persona="melanie",
        channel="email",
        subject="Rücksendeschein geht nicht",
        started_days_ago=14.1,
        status="solved",
        tags=("retoure",),
        turns=(
            Turn(
                "customer",
                "Hallo,\n\n"
                "ich wollte die Sachen aus Bestellung 100298 zurückschicken (Bluse passt nicht "
                "und das Kleid gefällt mir doch nicht). Im Kundenkonto kommt bei „Rücksendung "
                "anmelden“ immer nur „Etwas ist schiefgelaufen“. Können sie mir den "
                "Rücksendeschein schicken? Hab keinen Drucker, geht das auch mit QR Code?\n\n"
                "LG Melanie Krüger",
                0,
            ),
            Turn(
                "agent",
                "Hallo Frau Krüger,\n\n"
                "sorry für die Umstände! Ich habe die Rücksendung zu Bestellung 100298 für Sie "
                "angelegt. Im Anhang finden Sie den DHL-QR-Code – den zeigen Sie in der "
                "Filiale einfach auf dem Handy vor, ausdrucken ist nicht nötig. Die Erstattung "
                "erfolgt nach Eingang im Lager innerhalb von 5–7 Werktagen.\n\n"
                "Viele Grüße\n"
                "Julia Brandt\n"
                "Kundenservice",
                130,
                AGENT,
            ),
            Turn("customer", "Hat geklappt danke!!", 170),
        ),
    ),
    Conversation(
        persona="reto",
        channel="messenger",
        subject="Lieferzeit und Zoll Schweiz",
        started_days_ago=18.3,
        status="open",
        tags=("versand", "schweiz"),
        turns=(
            Turn(
                "customer",
                "Hoi zäme, wie lange geht die Lieferung in die Schweiz? Und muss ich da noch "
                "Zoll zahlen oder ist das inbegriffen?",
                0,
            ),
            Turn(
                "agent",
                "Hallo Reto, danke für deine Nachricht! In die Schweiz liefern wir in 4–6 "
                "Werktagen mit der Post. Wir versenden verzollt, Zoll und MwSt. sind also im "
                "Preis enthalten. Versandkosten: 9,90 €, ab 100 € gratis.",
                240,
                SOCIAL,
            ),
            Turn(
                "customer",
                "Merci. Und Retouren? Muss ich die selber bezahlen aus der Schweiz?",
                1500,
            ),
        ),
    ),
    Conversation(
        persona="reto",
        channel="email",
        subject="Umtausch Schuhe Bestellung 100688 Grösse 44 -> 43",
        started_days_ago=5.2,
        status="open",
        tags=("umtausch", "schweiz"),
        turns=(
            Turn(
                "customer",
                "Guten Tag\n\n"
                "Ich habe die Sneaker „Runa“ in Grösse EU 44 erhalten (Bestellung 100688). Sie "
                "sind leider etwa eine halbe Nummer zu gross, ich rutsche hinten raus. Kann "
                "ich sie gegen 43 umtauschen?\n\n"
                "Ausserdem habe ich auf Facebook schon gefragt, ob die Rücksendung aus der "
                "Schweiz gratis ist, aber keine Antwort bekommen.\n\n"
                "Freundliche Grüsse\n"
                "Reto Baumann\n"
                "Kramgasse 12\n"
                "3011 Bern",
                0,
            ),
            Turn(
                "agent",
                "Guten Tag Herr Baumann,\n\n"
                "entschuldigen Sie bitte, dass Ihre Frage auf Facebook untergegangen ist. Die "
                "Rücksendung aus der Schweiz ist für Sie kostenlos: Im Anhang finden Sie ein "
                "Retourenlabel der Post, das Sie auf das Paket kleben und bei jeder Poststelle "
                "abgeben können.\n\n"
                "Die „Runa“ in EU 43 habe ich für Sie reserviert. Wir verschicken sie, sobald "
                "Ihre Rücksendung bei uns eingetroffen ist – aus der Schweiz dauert das meist "
                "5–7 Werktage.\n\n"
                "Freundliche Grüße\n"
                "Julia Brandt\n"
                "Kundenservice",
                1340,
                AGENT,
            ),
            Turn(
                "customer",
                "Danke. Geht das auch schneller? Könnt ihr die 43 nicht schon vorher schicken, "
                "ich zahle die ja sowieso.",
                2900,
            ),
        ),
    ),
    Conversation(
        persona="katrin",
        channel="x",
        subject="Journalistin sucht Pressekontakt",
        started_days_ago=10.3,
        status="solved",
        tags=("presse", "social"),
        turns=(
            Turn(
                "customer",
                "Hallo @shop, ich recherchiere zu Retouren im Onlinehandel für ein "
                "Verbrauchermagazin. An wen kann ich mich mit Fragen wenden? Finde auf eurer "
                "Seite keinen Pressekontakt.",
                0,
            ),
            Turn(
                "agent",
                "Hallo Frau Vogel, danke für Ihr Interesse! Schicken Sie Ihre Fragen gern per "
                "Mail an unseren Kundenservice mit dem Betreff „Presse“, wir leiten sie direkt "
                "an unsere Unternehmenskommunikation weiter. ^Nina",
                65,
                SOCIAL,
            ),
            Turn("customer", "Danke, mache ich morgen.", 80),
        ),
    ),
    Conversation(
        persona="katrin",
        channel="email",
        subject="Presseanfrage: Retourenquote und Nachhaltigkeit",
        started_days_ago=9.4,
        status="on_hold",
        tags=("presse",),
        turns=(
            Turn(
                "customer",
                "Sehr geehrte Damen und Herren,\n\n"
                "mein Name ist Katrin Vogel, ich bin freie Journalistin und recherchiere für "
                "ein Verbrauchermagazin zum Thema Retouren im Online-Modehandel. Wie auf X "
                "vereinbart, schicke ich Ihnen meine Fragen per Mail:\n\n"
                "1. Wie hoch ist Ihre Retourenquote ungefähr?\n"
                "2. Was passiert mit zurückgeschickter Ware, die nicht mehr verkauft werden "
                "kann?\n"
                "3. Planen Sie eine Gebühr für Rücksendungen?\n\n"
                "Mein Redaktionsschluss ist Freitag in einer Woche. Gerne auch ein kurzes "
                "Telefonat.\n\n"
                "Mit freundlichen Grüßen\n"
                "Katrin Vogel\n"
                "Freie Journalistin\n"
                "Tel. +49 160 94412873",
                0,
            ),
            Turn(
                "note",
                "Presse – nicht selbst beantworten! An Unternehmenskommunikation (Frau Albers) "
                "weitergeleitet, on hold bis Rückmeldung.",
                40,
                LEAD,
            ),
            Turn(
                "agent",
                "Sehr geehrte Frau Vogel,\n\n"
                "vielen Dank für Ihre Anfrage. Ich habe Ihre Fragen an unsere "
                "Unternehmenskommunikation weitergeleitet; Frau Albers meldet sich bis "
                "spätestens Mittwoch direkt bei Ihnen. Ihren Redaktionsschluss habe ich "
                "vermerkt.\n\n"
                "Mit freundlichen Grüßen\n"
                "Stefan Kowalski\n"
                "Teamleitung Kundenservice",
                55,
                LEAD,
            ),
        ),
    ),
    # English-language tickets
    Conversation(
        persona="emily",
        channel="email",
        subject="Exchange jeans Order #100318 - too small",
        started_days_ago=7.1,
        status="solved",
        tags=("umtausch",),
        turns=(
            Turn(
                "customer",
                "Hi there,\n\n"
                "I received my order #100318 yesterday and unfortunately the high-rise jeans "
                "(UK 10) are too small - I can barely get them done up! I'd love to swap them "
                "for a UK 12 rather than send them back for a refund as I really like the "
                "colour.\n\n"
                "Could you let me know how to do that? Do I need to pay for the return "
                "postage?\n\n"
                "Thanks so much,\n"
                "Emily Clarke\n"
                "14 Beech Road\n"
                "Manchester M21 8BH",
                0,
            ),
            Turn(
                "note",
                "Customer chased on Instagram, exchange handled there: UK 12 reserved, returns "
                "label sent.",
                4400,
                SOCIAL,
            ),
            Turn(
                "agent",
                "Hi Emily,\n\n"
                "as discussed on Instagram, here is your free Royal Mail returns label for "
                "order #100318 (attached). Your jeans in UK 12 are reserved and will be sent "
                "out as soon as the UK 10 pair is scanned at our warehouse.\n\n"
                "Sorry again for the slow reply!\n\n"
                "Best wishes,\n"
                "Nina\n"
                "Customer Care",
                4415,
                SOCIAL,
            ),
        ),
    ),
    Conversation(
        persona="emily",
        channel="instagram",
        subject="Chasing exchange #100318 (email unanswered)",
        started_days_ago=4.05,
        status="pending",
        tags=("umtausch", "social"),
        turns=(
            Turn(
                "customer",
                "Hi! I emailed you 3 days ago about swapping my jeans for a bigger size and "
                "haven't heard anything back 🙁 order #100318",
                0,
            ),
            Turn(
                "agent",
                "Hi Emily, so sorry for the wait – we've had loads of emails this week! I've "
                "found your message 🙈 The jeans in UK 12 are now reserved for you and you'll "
                "get a free returns label by email in a few minutes. As soon as the UK 10s are "
                "scanned at our warehouse, your new pair goes out.",
                18,
                SOCIAL,
            ),
            Turn(
                "customer",
                "amazing, thank you!! 💕 how long does it usually take once I've posted them?",
                26,
            ),
            Turn(
                "agent",
                "Usually 3–5 working days for the parcel to reach us from the UK, then we ship "
                "the UK 12 the same day with tracking 📦",
                34,
                SOCIAL,
            ),
        ),
    ),
    Conversation(
        persona="james",
        channel="email",
        subject="Payment reminder for returned order no. 100912 ???",
        started_days_ago=6.3,
        status="open",
        priority="urgent",
        tags=("mahnung", "retoure"),
        turns=(
            Turn(
                "customer",
                "Hello,\n\n"
                "I've just received a payment reminder for order no. 100912 (€89.90) with a €5 "
                "late fee added. I returned that entire order three weeks ago with the label "
                "you provided, and the An Post tracking (CE482913375IE) shows it was delivered "
                "to your warehouse more than two weeks ago.\n\n"
                "I'd like the reminder cancelled, the fee removed and written confirmation "
                "that I owe nothing. Frankly I'm not impressed.\n\n"
                "James O'Connor\n"
                "27 Rathgar Avenue\n"
                "Dublin 6",
                0,
            ),
            Turn(
                "customer",
                "Still no reply. I'll be raising this publicly if I don't hear back today.",
                1600,
            ),
            Turn(
                "note",
                "Kunde hat sich auf X beschwert, dort per DM geklärt. Retoure war auf 100921 "
                "statt 100912 gebucht (Zahlendreher). Gutschrift erstellt, Mahngebühr "
                "storniert.",
                3130,
                SOCIAL,
            ),
            Turn(
                "agent",
                "Dear Mr O'Connor,\n\n"
                "further to our messages on X, I'd like to confirm in writing: your return for "
                "order no. 100912 arrived at our warehouse on time but was booked against the "
                "wrong order number on our side. This has now been corrected. The invoice of "
                "€89.90 has been fully credited and the €5 reminder fee cancelled – you owe us "
                "nothing.\n\n"
                "I'm sorry it took a public post for us to get back to you; that is not the "
                "standard we aim for.\n\n"
                "Kind regards,\n"
                "Stefan Kowalski\n"
                "Customer Care Team Lead",
                3160,
                LEAD,
            ),
            Turn(
                "customer",
                "Appreciated. I'd still like to know why nobody answered my emails for a week "
                "though.",
                3300,
            ),
        ),
    ),
    Conversation(
        persona="james",
        channel="x",
        subject="Public complaint: reminder with late fee for returned order",
        started_days_ago=4.2,
        status="solved",
        priority="high",
        tags=("mahnung", "social"),
        turns=(
            Turn(
                "customer",
                "Returned my order 3 weeks ago, now @shop is sending me payment reminders WITH "
                "a late fee. Emailed twice, zero response. Brilliant customer service 👏👏",
                0,
            ),
            Turn(
                "agent",
                "Hi James, we're really sorry – that shouldn't happen. Could you send us a DM "
                "with your order number so we can sort this out today? ^Nina",
                24,
                SOCIAL,
            ),
            Turn("customer", "DM sent. Order no. 100912.", 31),
            Turn(
                "note",
                "Retoure 100912 auf 100921 gebucht (Zahlendreher). Lager korrigiert, Mahnung "
                "gestoppt. @lead bitte noch formelle Bestätigung per Mail an den Kunden.",
                70,
                SOCIAL,
            ),
            Turn(
                "agent",
                "Thanks James. Found it: your return arrived but was booked to the wrong order "
                "on our end. That's fixed now, the reminder and the €5 fee are cancelled and "
                "you'll get written confirmation by email shortly. Sorry for the hassle. ^Nina",
                95,
                SOCIAL,
            ),
            Turn("customer", "Ok, thanks for sorting it quickly at least.", 140),
        ),
    ),
    Conversation(
        persona="sarah",
        channel="email",
        subject="Shipping to the US?",
        started_days_ago=22.4,
        status="open",
        tags=("versand",),
        turns=(
            Turn(
                "customer",
                "Hi! Do you ship to the US? I'm in Austin, TX. If so how much is shipping and "
                "how long does it take? Also would I have to pay import duties on top?\n\n"
                "Thanks!\n"
                "Sarah",
                0,
            ),
            Turn(
                "agent",
                "Hi Sarah,\n\n"
                "thanks for getting in touch! Yes, we ship to the US. Standard shipping with "
                "UPS costs $14.90 (free on orders over $150) and takes 5–8 business days; "
                "Express is $29.90 and takes 2–3 business days.\n\n"
                "Duties and taxes are already included in our US prices, so you won't be "
                "charged anything on delivery. Returns from the US are possible within 30 "
                "days; the return postage of $9.90 is deducted from your refund.\n\n"
                "Best,\n"
                "Julia\n"
                "Customer Care",
                520,
                AGENT,
            ),
            Turn(
                "customer",
                "Great, thank you! One more: what are your customer service hours? I'm 7 hours "
                "behind you so I want to know when I can reach you on chat.",
                1900,
            ),
        ),
    ),
    Conversation(
        persona="sarah",
        channel="chat",
        subject="Order #100811 tracking not updating",
        started_days_ago=0.3,
        status="new",
        tags=("lieferstatus",),
        turns=(
            Turn(
                "bot",
                "Hi there! 👋 I'm the virtual assistant. What can I help you with? Order · "
                "Returns · Shipping · Something else",
                0,
            ),
            Turn("customer", "Order", 1),
            Turn(
                "bot",
                "Please enter your order number and I'll connect you with an agent.",
                2,
            ),
            Turn(
                "customer",
                "Order #100811 - placed last Tuesday, tracking 1Z999AA10123456784 hasn't moved "
                "in 4 days. Stuck in Louisville KY",
                4,
            ),
            Turn("customer", "still there?", 12),
        ),
    ),
    Conversation(
        persona="olivia",
        channel="instagram",
        subject="Linen midi dress – see-through? sizing?",
        started_days_ago=16.2,
        status="solved",
        tags=("produktfrage",),
        turns=(
            Turn(
                "customer",
                "hiya, quick q about the linen midi dress in sage 🌿 is it see-through at all? "
                "and does it run small? I'm usually a UK 8 but sometimes 10 on top",
                0,
            ),
            Turn(
                "agent",
                "Hi Olivia! 💚 The linen midi is lined in the skirt, so it's not see-through. "
                "It's cut quite relaxed – if you're between an 8 and a 10, most customers go "
                "for their smaller size. Bust on the UK 8 is 88 cm, on the 10 it's 93 cm.",
                80,
                SOCIAL,
            ),
            Turn("customer", "ooh ok, ordering the 8 then thanks!!", 95),
        ),
    ),
    Conversation(
        persona="olivia",
        channel="whatsapp",
        subject="Exchange linen dress UK 8 → UK 6 (100644)",
        started_days_ago=2.1,
        status="open",
        tags=("umtausch",),
        turns=(
            Turn(
                "customer",
                "Hiya, it's Olivia (we chatted on insta about the linen dress). Ordered the 8 "
                "in the end, order 100644 – and it's actually too big 🙈 can I swap for a 6?",
                0,
            ),
            Turn(
                "agent",
                "Hi Olivia, thanks for the message! Of course 😊 The sage linen dress in UK 6 "
                "is in stock and I've reserved one for you. Shall I send the new one straight "
                "away and you return the 8 with the enclosed label, or would you rather send "
                "it back first?",
                150,
                SOCIAL,
            ),
            Turn("customer", "straight away pls!! going to a wedding next saturday", 170),
            Turn("customer", "and is the return free? 🙏", 171),
        ),
    ),
    Conversation(
        persona="david",
        channel="email",
        subject="Order #100277 - lamp arrived damaged",
        started_days_ago=10.2,
        status="pending",
        tags=("beschaedigt",),
        turns=(
            Turn(
                "customer",
                "Hello,\n\n"
                "Our order #100277 arrived this morning. Unfortunately the ceramic base of the "
                "table lamp (Oslo, white) is cracked straight through. The box looked fine "
                "from the outside, so I assume it wasn't packed very well. Photos attached.\n\n"
                "I'd like a replacement please, not a refund – it's meant to match the one we "
                "already have.\n\n"
                "Regards,\n"
                "David Thompson\n"
                "9 Chapel Lane\n"
                "Leeds LS6 3BW",
                0,
            ),
            Turn(
                "agent",
                "Dear Mr Thompson,\n\n"
                "thank you for the photos, and I'm sorry the lamp arrived in this state. I've "
                "arranged a free replacement under order 100796; it will leave our warehouse "
                "within 2 working days and should reach you in about 5 working days. You don't "
                "need to send the damaged lamp back.\n\n"
                "Kind regards,\n"
                "Julia\n"
                "Customer Care",
                240,
                AGENT,
            ),
            Turn("customer", "Thanks, that's very helpful.", 330),
        ),
    ),
    Conversation(
        persona="david",
        channel="phone",
        subject="Call: replacement lamp 100796 not arrived",
        started_days_ago=1.05,
        status="open",
        tags=("lieferstatus", "beschaedigt", "telefon"),
        turns=(
            Turn(
                "customer",
                "Caller says the replacement lamp (order 100796, for the damaged one from "
                "#100277) still hasn't arrived – he was told about 5 working days, it's been 9 "
                "days. No shipping email received. Polite but fed up, has guests coming at the "
                "weekend.",
                0,
            ),
            Turn(
                "agent",
                "Checked: 100796 only shipped on Monday (Oslo base was on backorder). UPS "
                "tracking 1Z999AA10123456792, delivery expected Thursday. Gave him the "
                "tracking number, apologised, promised to email it as well.",
                6,
                AGENT,
            ),
            Turn(
                "note",
                "Warum bekommen Kunden bei Ersatzaufträgen keine Versandmail? @admin bitte prüfen.",
                12,
                AGENT,
            ),
            Turn(
                "note",
                "Ersatzaufträge laufen ohne Kundenbenachrichtigung, die Vorlage fehlt. Lege "
                "ich heute an.",
                95,
                ADMIN,
            ),
        ),
    ),
    Conversation(
        persona="david",
        channel="email",
        subject="Gift cards by post? Saturday phone hours",
        started_days_ago=0.4,
        status="new",
        tags=("sonstiges",),
        turns=(
            Turn(
                "customer",
                "Hi,\n\n"
                "do you sell gift cards, and can they be sent by post rather than email? It's "
                "for my mother-in-law, who doesn't really do email. Also, is your phone line "
                "open on Saturdays?\n\n"
                "Thanks,\n"
                "David",
                0,
            ),
        ),
    ),
    Conversation(
        persona="megan",
        channel="messenger",
        subject="Where is my refund for 100523?",
        started_days_ago=13.3,
        status="open",
        tags=("erstattung", "retoure"),
        turns=(
            Turn(
                "customer",
                "hi there, wheres my refund?? sent back the boots 2 weeks ago, order 100523",
                0,
            ),
            Turn(
                "agent",
                "Hi Megan, thanks for getting in touch! I've checked order 100523: the boots "
                "arrived back with us on Friday and the refund of €119.00 was issued today to "
                "your Visa card. It usually takes 5–7 working days to show on your statement, "
                "depending on your bank.",
                65,
                SOCIAL,
            ),
            Turn("customer", "grand, thanks", 80),
            Turn(
                "customer",
                "hi again, still nothing on my card and its been over a week now",
                9800,
            ),
        ),
    ),
    Conversation(
        persona="megan",
        channel="email",
        subject="Change of address + unsubscribe",
        started_days_ago=27.2,
        status="closed",
        tags=("adresse", "newsletter"),
        turns=(
            Turn(
                "customer",
                "Hello,\n\n"
                "I've moved house, could you please update the address on my account to:\n\n"
                "Megan Walsh\n"
                "Apartment 4, 18 Douglas Street\n"
                "Cork T12 XK83\n"
                "Ireland\n\n"
                "Also can you take me off the marketing emails? I only want the order "
                "updates.\n\n"
                "Thank you,\n"
                "Megan",
                0,
            ),
            Turn(
                "agent",
                "Hi Megan,\n\n"
                "done! Your account now shows the new address on Douglas Street, and it will "
                "be used for all future orders. I've also unsubscribed you from our marketing "
                "emails – you'll still get order and shipping confirmations.\n\n"
                "Best regards,\n"
                "Tom\n"
                "Customer Care",
                320,
                ADMIN,
            ),
        ),
    ),
    Conversation(
        persona="ryan",
        channel="x",
        subject="Free returns to the UK?",
        started_days_ago=29.1,
        status="closed",
        tags=("versand", "social"),
        turns=(
            Turn(
                "customer",
                "@shop do you do free returns to the UK? can't find it anywhere on your site",
                0,
            ),
            Turn(
                "agent",
                "Hi Ryan! Yes – returns from the UK are free within 30 days. You can create "
                "your Royal Mail label under 'My orders' in your account. All the details are "
                "in our help centre under Returns. ^Nina",
                140,
                SOCIAL,
            ),
            Turn("customer", "cheers 👍", 190),
        ),
    ),
    Conversation(
        persona="ryan",
        channel="x",
        subject="Change size on order 100849 before shipping",
        started_days_ago=0.15,
        status="new",
        tags=("bestellaenderung", "social"),
        turns=(
            Turn(
                "customer",
                "@shop ordered 100849 last night, any chance I can still change the hoodie "
                "from size M to L before it ships?",
                0,
            ),
            Turn("customer", "@shop ?", 45),
        ),
    ),
    Conversation(
        persona="hannah",
        channel="chat",
        subject="How do I return one item from an order?",
        started_days_ago=19.4,
        status="solved",
        tags=("retoure",),
        turns=(
            Turn(
                "bot",
                "Hi there! 👋 I'm the virtual assistant. What can I help you with? Order · "
                "Returns · Shipping · Something else",
                0,
            ),
            Turn("customer", "Returns", 1),
            Turn(
                "bot",
                "You can start a return in your account under 'My orders'. Did that answer "
                "your question? Yes · No, talk to a person",
                2,
            ),
            Turn("customer", "No, talk to a person", 3),
            Turn(
                "customer",
                "hi! I ordered 2 tops (order 100362) and one doesn't fit, keeping the other "
                "one. how do I return just one? and I'm in the US",
                4,
            ),
            Turn(
                "agent",
                "Hi Hannah! Easy: in your account go to 'My orders' › 100362 › 'Return items' "
                "and just tick the top you want to send back. You'll then get a UPS label; "
                "return postage from the US is $9.90 and is deducted from your refund. The "
                "refund goes back to your original payment method within 5–7 business days "
                "after the parcel reaches us.",
                15,
                AGENT,
            ),
            Turn("customer", "perfect, thanks!", 19),
        ),
    ),
    Conversation(
        persona="hannah",
        channel="email",
        subject="Refund for return on order 100362?",
        started_days_ago=3.3,
        status="new",
        tags=("erstattung", "retoure"),
        turns=(
            Turn(
                "customer",
                "Hi,\n\n"
                "I returned one of the tops from order 100362 about two weeks ago. UPS "
                "tracking says it was delivered to your warehouse 8 days ago, but I haven't "
                "recieved my refund ($38.00 minus the $9.90 return fee) and I never got an "
                "email saying the return was processed.\n\n"
                "Could you check on this please?\n\n"
                "Thanks,\n"
                "Hannah Brooks\n"
                "Portland, OR",
                0,
            ),
            Turn("customer", "Following up on this - any update?", 2600),
        ),
    ),
    Conversation(
        persona="george",
        channel="email",
        subject="Wrong size slippers received - order 100211",
        started_days_ago=9.1,
        status="pending",
        tags=("falscher-artikel", "umtausch"),
        turns=(
            Turn(
                "customer",
                "Dear Sir or Madam,\n\n"
                "I write regarding my order number 100211, which arrived on Tuesday. I ordered "
                "the sheepskin slippers in size 10 (UK) but the parcel contained a pair in "
                "size 9. The delivery note inside the box does say size 10, so I believe the "
                "error lies with your warehouse rather than with my order.\n\n"
                "I should be grateful if you would send me the correct size. I would also like "
                "to know whether I may telephone you about such matters, and if so at what "
                "hours, as I do not find e-mail very convenient.\n\n"
                "Yours faithfully,\n\n"
                "George Harris\n"
                "3 Clifton Park Road\n"
                "Bristol BS8 3HN",
                0,
            ),
            Turn(
                "agent",
                "Dear Mr Harris,\n\n"
                "thank you for your letter, and please accept my apologies for the mix-up – "
                "you are quite right, the error was ours. I have reserved the sheepskin "
                "slippers in UK size 10 for you. Please return the size 9 pair free of charge "
                "using the attached Royal Mail label; as soon as they are back with us, we "
                "will send you the correct pair.\n\n"
                "You are of course very welcome to telephone us: our customer service line is "
                "open Monday to Friday from 7 am to 5 pm UK time.\n\n"
                "Kind regards,\n"
                "Julia\n"
                "Customer Care",
                1380,
                AGENT,
            ),
        ),
    ),
    Conversation(
        persona="george",
        channel="phone",
        subject="Call: slippers 100211 sent back, wants refund instead",
        started_days_ago=3.2,
        status="open",
        tags=("retoure", "erstattung", "telefon"),
        turns=(
            Turn(
                "customer",
                "Caller (Mr Harris, very polite) says he posted the size 9 slippers back on "
                "Monday at the post office and asks whether they have arrived. He has since "
                "bought slippers locally and would now prefer a refund (£29.99) instead of the "
                "size 10 exchange.",
                0,
            ),
            Turn(
                "agent",
                "Return not scanned at the warehouse yet; told him UK returns take 3–5 working "
                "days. Changed the exchange to a refund in the system – refund to his card "
                "once the return is booked. Promised to confirm by email when done.",
                8,
                AGENT,
            ),
            Turn(
                "note",
                "Umtausch 100211 auf Erstattung umgestellt, Reservierung UK 10 freigegeben.",
                14,
                AGENT,
            ),
        ),
    ),
    Conversation(
        persona="chloe",
        channel="whatsapp",
        subject="Cancel duplicate order 100166",
        started_days_ago=21.3,
        status="solved",
        tags=("storno",),
        turns=(
            Turn(
                "customer",
                "hi! i think i ordered twice by accident 🤦‍♀️ 100166 and 100167, same jumper. "
                "can you cancel 100166?",
                0,
            ),
            Turn(
                "agent",
                "Hi Chloe, thanks for letting us know! 100166 was already handed over to An "
                "Post this morning, so I can't cancel that one any more – but 100167 was still "
                "in the queue, so I've cancelled that instead. You'll only receive one jumper, "
                "and the €64.95 for 100167 goes back to your PayPal within 1–2 days.",
                240,
                AGENT,
            ),
            Turn("customer", "oh even better, thank you!!", 300),
        ),
    ),
    Conversation(
        persona="chloe",
        channel="instagram",
        subject="Praise: packaging and handwritten note",
        started_days_ago=19.8,
        status="solved",
        tags=("lob",),
        turns=(
            Turn(
                "customer",
                "just got my jumper and omg the packaging 😍😍 and the little handwritten "
                "note!! def ordering again",
                0,
            ),
            Turn(
                "agent",
                "Aww Chloe, this made our day! 🥹 We'll pass it on to the packing team, "
                "they'll be thrilled. Enjoy your jumper 💛",
                95,
                SOCIAL,
            ),
        ),
    ),
    Conversation(
        persona="michael",
        channel="email",
        subject="SECOND reminder for returned order 100739 - unacceptable",
        started_days_ago=5.1,
        status="on_hold",
        priority="urgent",
        tags=("mahnung", "retoure"),
        turns=(
            Turn(
                "customer",
                "To whom it may concern,\n\n"
                "I returned order 100739 (two pairs of shoes, $154.80) over three weeks ago "
                "via UPS, tracking 1Z999AA10123456785, delivered and signed for at your "
                "warehouse. Today I received a SECOND payment reminder threatening to hand "
                "this over to a collection agency.\n\n"
                "I have never received an acknowledgement of my return, nor an answer to the "
                "email I sent last week. I expect this to be resolved immediately and the "
                "reminder withdrawn in writing. If this goes to collections I will dispute it "
                "and report it.\n\n"
                "Michael Reynolds\n"
                "1540 W Addison St\n"
                "Chicago, IL 60613",
                0,
            ),
            Turn(
                "note",
                "Kunde hat heute auch per Messenger geschrieben, dort vertröstet. UPS "
                "bestätigt Zustellung mit Unterschrift, Lager findet das Paket nicht. @lead "
                "bitte Kulanz prüfen: gutschreiben, falls es nicht auftaucht?",
                1340,
                AGENT,
            ),
            Turn(
                "note",
                "Mahnsperre gesetzt, UPS-Nachforschung läuft. Wenn Lager bis Freitag nichts "
                "findet: voll gutschreiben. Bis dahin on hold.",
                1400,
                LEAD,
            ),
            Turn(
                "agent",
                "Dear Mr Reynolds,\n\n"
                "thank you for your patience, and I apologise both for the reminder and for "
                "the silence on our side. I can confirm that the payment reminder for order "
                "100739 has been withdrawn and your account is blocked from any further "
                "reminders – nothing will be passed to a collection agency.\n\n"
                "UPS has confirmed delivery of your return to our warehouse. We are currently "
                "locating the parcel internally; I will update you by Friday at the latest. "
                "Whatever the outcome, you will not be charged for goods you have returned.\n\n"
                "Kind regards,\n"
                "Stefan Kowalski\n"
                "Customer Care Team Lead",
                1430,
                LEAD,
            ),
        ),
    ),
    Conversation(
        persona="michael",
        channel="messenger",
        subject="Urgent: collections threat for returned order 100739",
        started_days_ago=4.2,
        status="pending",
        priority="high",
        tags=("mahnung",),
        turns=(
            Turn(
                "customer",
                "Hi, I emailed you yesterday about order 100739. You're threatening me with "
                "collections for shoes I RETURNED. Can someone please look at this today",
                0,
            ),
            Turn(
                "agent",
                "Hi Michael, I'm very sorry about this. I can see your email and have passed "
                "it to our team lead as urgent. I've already blocked any further reminders on "
                "your account, so nothing will go to collections while we check. You'll get a "
                "full reply by email today.",
                40,
                SOCIAL,
            ),
            Turn("customer", "ok. thanks for the quick response at least", 52),
        ),
    ),
    Conversation(
        persona="priya",
        channel="email",
        subject="Cashmere jumper question + where is order 100958?",
        started_days_ago=0.5,
        status="new",
        tags=("produktfrage", "lieferstatus"),
        turns=(
            Turn(
                "customer",
                "Hi,\n\n"
                "two things:\n\n"
                "1) The Ava cashmere jumper – is it 100% cashmere or a blend? The product page "
                'just says "cashmere" but on the photo of the care label it looks like 70%. '
                "And can it go in the washing machine on a wool cycle?\n\n"
                "2) I ordered a pair of trainers on Saturday (order 100958) and the status "
                'still says "processing". Has it shipped yet? I need them by next Friday.\n\n'
                "Thanks,\n"
                "Priya Shah",
                0,
            ),
        ),
    ),
    Conversation(
        persona="priya",
        channel="chat",
        subject="Change delivery address for #100925",
        started_days_ago=8.3,
        status="open",
        tags=("adresse", "bestellaenderung"),
        turns=(
            Turn(
                "bot",
                "Hi there! 👋 I'm the virtual assistant. What can I help you with? Order · "
                "Returns · Shipping · Something else",
                0,
            ),
            Turn(
                "customer",
                "hi, can I change the delivery address for order #100925? i'm moving flat on "
                "friday",
                1,
            ),
            Turn(
                "agent",
                "Hi Priya! Let me check… #100925 hasn't been packed yet, so yes, I can still "
                "change it. What's the new address?",
                11,
                AGENT,
            ),
            Turn("customer", "Flat 3, 22 Queens Road, Leicester LE2 1WP", 14),
            Turn(
                "agent",
                "Done ✅ #100925 will now go to Flat 3, 22 Queens Road, Leicester LE2 1WP. "
                "Expected delivery is Thursday or Friday with DPD.",
                17,
                AGENT,
            ),
            Turn(
                "customer",
                "amazing. is my billing address changed too or do i need to do that myself?",
                20,
            ),
        ),
    ),
)


_CHANNEL_IDENTITY = {
    "email": "email",
    "chat": "chat_visitor_id",
    "messenger": "messenger_id",
    "instagram": "instagram_id",
    "whatsapp": "phone",
    "x": "x_id",
    "phone": "phone",
}
_STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
_PRIORITIES = ("low", "normal", "high", "urgent")
_WHO = ("customer", "agent", "note", "bot")
_AGENTS = (AGENT, LEAD, SOCIAL, ADMIN)
_EMAIL_DOMAINS = ("@example.com", "@example.org", "@example.net")


def _check() -> None:
    """Assert the internal consistency of PERSONAS and CONVERSATIONS."""
    keys = [p.key for p in PERSONAS]
    assert len(keys) == len(set(keys)), "persona keys must be unique"
    personas = {p.key: p for p in PERSONAS}
    for p in PERSONAS:
        assert p.language in ("de", "en"), p.key
        assert p.email is None or p.email.endswith(_EMAIL_DOMAINS), p.key
        assert p.phone is None or (p.phone[0] == "+" and p.phone[1:].isdigit()), p.key
        for digits in (p.messenger_id, p.instagram_id, p.x_id):
            assert digits is None or digits.isdigit(), p.key
        assert p.chat_visitor_id is None or p.chat_visitor_id.startswith("v-"), p.key
    used = set()
    for i, c in enumerate(CONVERSATIONS):
        where = f"conversation {i} ({c.persona}/{c.channel})"
        assert c.persona in personas, where
        used.add(c.persona)
        assert c.channel in _CHANNEL_IDENTITY, where
        assert getattr(personas[c.persona], _CHANNEL_IDENTITY[c.channel]), where
        assert c.status in _STATUSES, where
        assert c.priority in _PRIORITIES, where
        assert 0.1 <= c.started_days_ago <= 30, where
        assert c.subject and c.turns, where
        assert c.turns[0].minutes == 0, where
        assert any(t.who == "customer" for t in c.turns), where
        for j in range(1, len(c.turns)):
            assert c.turns[j].minutes > c.turns[j - 1].minutes, where
        assert c.turns[-1].minutes <= c.started_days_ago * 24 * 60, where
        for t in c.turns:
            assert t.who in _WHO, where
            assert t.text.strip(), where
            if t.who in ("agent", "note"):
                assert t.agent in _AGENTS, where
            else:
                assert t.agent is None, where
        if c.status == "new":
            assert all(t.who in ("customer", "bot") for t in c.turns), where
    assert used == set(keys), f"unused personas: {set(keys) - used}"


#: Conversations about the demo shop's orders (helpdesk/demo/orders.py), played after the
#: orders exist, so their tickets are linked to the orders they name.
SHOP_CONVERSATIONS: tuple[Conversation, ...] = (
    # The story: the boots went back two weeks ago, the reminder came anyway.
    Conversation(
        persona="heike",
        channel="email",
        subject="Zahlungserinnerung trotz Rücksendung",
        started_days_ago=0.2,
        status="new",
        tags=("retoure", "mahnung"),
        turns=(
            Turn(
                "customer",
                "Guten Tag,\n\n"
                "Ich habe die Schuhe schon vor zwei Wochen zurückgeschickt und heute kam eine "
                "Zahlungserinnerung. Bestellnr. 100964\n\n"
                "Die Stiefeletten „Ida“ waren mir zu klein, den Schal behalte ich und bezahle ihn "
                "natürlich. Bitte stoppen Sie die Mahnung für die Schuhe.\n\n"
                "Mit freundlichen Grüßen\n"
                "Heike Bauer\n"
                "Karl-Liebknecht-Str. 18\n"
                "04107 Leipzig",
                0,
            ),
        ),
    ),
)
