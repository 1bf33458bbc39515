"""Demo data for the shop: its catalogue with stock per size, and the demo customers' orders.

The orders are the ones the demo conversations talk about (same numbers, items,
amounts, tracking numbers and timeline), so a ticket shows the order, invoice and
return its customer writes about. Times are days before the demo is loaded. A few
customers without conversations add orders and returns spread over the last
twelve weeks, so the return-reason figures have something to show.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SHOP_KEY = "nordlicht"
SHOP_NAME = "Nordlicht Mode"


@dataclass(frozen=True)
class Product:
    """One product in one colour; `stock` has pieces per size ("" for one size)."""

    key: str  # SKU prefix, e.g. "MIA"; the SKU is "<key>-<size>"
    name: str  # the product's name, shared by its colours (exchange offers them all)
    colour: str | None
    price_cents: int  # in EUR; orders in other currencies give their own price
    stock: dict[str, int]

    def sku(self, size: str) -> str:
        return f"{self.key}-{size.replace(' ', '')}" if size else self.key


def _sizes(sizes: str, pieces: str) -> dict[str, int]:
    return dict(zip(sizes.split(","), map(int, pieces.split(",")), strict=True))


_EU_DRESS = "34,36,38,40,42,44"
_UK = "UK 6,UK 8,UK 10,UK 12,UK 14,UK 16"
_LETTERS = "S,M,L,XL"

CATALOGUE: tuple[Product, ...] = (
    Product("MIA", "Sommerkleid „Mia“", "Blumen", 7995, _sizes(_EU_DRESS, "4,6,5,3,2,0")),
    Product("OXFORD", "Hemd „Oxford“", "weiß", 2995, _sizes("39,40,41,42,43,44", "5,8,6,7,3,2")),
    Product("HAMBURG", "Chino „Hamburg“", "beige", 3000, _sizes("30,31,32,33,34", "3,4,6,4,2")),
    Product("ELENA", "Pumps „Elena“", "nude", 8995, _sizes("37,38,39,40,41", "2,3,1,2,0")),
    Product("LOTTA", "Jeans „Lotta“", "hellblau", 3995, _sizes(_EU_DRESS, "5,8,6,4,2,1")),
    Product("FEE", "Top „Fee“", "weiß", 2000, _sizes("S,M,L", "10,12,6")),
    Product("ALPIN", "Strickjacke „Alpin“", "grau meliert", 8995, _sizes(_LETTERS, "3,5,4,1")),
    Product("BASEL", "Pullover „Basel“", "grau", 7990, _sizes("S,M,L", "6,4,5")),
    Product("BERGEN", "Winterjacke „Bergen“", "schwarz", 12900, _sizes(_LETTERS, "2,4,3,2")),
    Product("ROSALIE", "Teeservice „Rosalie“, 12-teilig", "Rosendekor", 14900, {"": 4}),
    Product("ROSALIE-TASSE", "Tasse „Rosalie“", "Rosendekor", 1490, {"": 12}),
    Product("ROSALIE-UNTERTASSE", "Untertasse „Rosalie“", "Rosendekor", 990, {"": 0}),
    Product("NORDKAP-SCHWARZ", "Hoodie „Nordkap“", "schwarz", 4999, _sizes(_LETTERS, "4,6,2,3")),
    Product("NORDKAP-BLAU", "Hoodie „Nordkap“", "dunkelblau", 4999, _sizes(_LETTERS, "3,5,6,2")),
    Product("LINA-COGNAC", "Tasche „Lina“", "Cognac", 11900, {"": 3}),
    Product("LINA-SCHWARZ", "Tasche „Lina“", "Schwarz", 11900, {"": 5}),
    Product("LINA-SALBEI", "Tasche „Lina“", "Salbei", 11900, {"": 2}),
    Product("MAILAND-SAKKO", "Sakko „Mailand“", "dunkelblau", 24900,
            _sizes("48,50,52,54", "2,1,2,1")),
    # Trousers in 50 come back only in about ten days: the one piece is for Dr. Gruber.
    Product("MAILAND-HOSE", "Hose „Mailand“", "dunkelblau", 15000,
            _sizes("48,50,52,54", "1,1,2,1")),
    Product("GRETA", "Bluse „Greta“", "salbei", 3490, _sizes("36,38,40,42", "4,3,5,2")),
    Product("SMILLA", "Kleid „Smilla“", "schwarz", 3995, _sizes("36,38,40,42", "3,4,4,2")),
    Product("RUNA", "Sneaker „Runa“", "weiß", 11995,
            _sizes("37,38,39,40,41,42,43,44,45", "3,4,5,4,6,5,2,3,1")),
    Product("RUNA-US", "Sneaker „Runa“ (US)", "white", 7490, _sizes("US 9,US 10,US 11", "2,2,1")),
    Product("IDA", "Stiefelette „Ida“", "cognac", 11995, _sizes("37,38,39,40,41", "2,3,1,4,2")),
    Product("WOLKE", "Schal „Wolke“", "creme", 2995, {"": 9}),
    Product("CAMDEN", "High-rise jeans „Camden“", "indigo", 6500, _sizes(_UK, "2,4,3,5,2,1")),
    Product("LINEN", "Linen midi dress", "sage", 7900, _sizes(_UK, "3,2,4,3,1,0")),
    Product("FJORD", "Merino jumper „Fjord“", "navy", 8990, _sizes(_LETTERS, "3,4,4,2")),
    Product("SYLT", "Linen shirt „Sylt“", "white", 8900, _sizes(_LETTERS, "2,5,3,1")),
    Product("OSLO", "Table lamp „Oslo“", "white", 8900, {"": 6}),
    Product("CORK", "Ankle boots „Cork“", "black", 11900, _sizes("37,38,39,40,41", "2,3,2,4,1")),
    Product("LOU-WHITE", "Jersey top „Lou“", "white", 3800, _sizes("S,M,L", "5,6,4")),
    Product("LOU-SAGE", "Jersey top „Lou“", "sage", 3800, _sizes("S,M,L", "3,4,2")),
    Product("SLIPPERS", "Sheepskin slippers", "chestnut", 2999,
            _sizes("UK 7,UK 8,UK 9,UK 10,UK 11", "2,4,5,2,3")),
    Product("ARAN", "Cable-knit jumper „Aran“", "cream", 6495, _sizes("S,M,L", "4,2,3")),
    Product("VERONA", "Loafers „Verona“", "brown", 7990, _sizes("US 9,US 10,US 11", "2,3,2")),
    Product("AVA", "Cashmere jumper „Ava“", "camel", 14900, _sizes("S,M,L", "3,3,2")),
    Product("IVY", "Wrap dress „Ivy“", "green", 6900, _sizes("UK 8,UK 10,UK 12,UK 14", "2,3,3,1")),
)  # fmt: skip
PRODUCTS: dict[str, Product] = {p.key: p for p in CATALOGUE}


@dataclass(frozen=True)
class Line:
    product: str  # Product.key
    size: str = ""
    quantity: int = 1
    price_cents: int | None = None  # default: the catalogue's (EUR) price


@dataclass(frozen=True)
class Ship:
    carrier: str
    tracking: str
    shipped: float  # days ago
    delivered: float | None = None  # days ago; None: still on its way
    kind: str = "order"  # or "exchange": the replacement for an exchange


@dataclass(frozen=True)
class Bill:
    """The invoice: paid at once (card, PayPal), open (on account) or cancelled."""

    status: str = "paid"
    due_after: int = 14  # days after the order
    reminder_level: int = 0
    reminded: float | None = None  # days ago


@dataclass(frozen=True)
class Step:
    status: str
    at: float  # days ago
    carrier: str | None = None
    tracking: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Back:
    """One returned item: which order line (product, size), how many, why, and for an
    exchange the size (or the product of another colour) wanted instead."""

    product: str
    size: str
    reason: str
    quantity: int = 1
    exchange_to: str | None = None  # a size, or "<product key>:<size>"
    comment: str | None = None


@dataclass(frozen=True)
class ReturnSpec:
    items: tuple[Back, ...]
    requested: float  # days ago
    steps: tuple[Step, ...] = ()
    resolution: str = "refund"
    source: str = "portal"  # portal, agent, shop (booked by the warehouse)


@dataclass(frozen=True)
class Hold:
    """Reminders paused by an agent (no return is registered yet)."""

    by: str  # a demo login
    at: float  # days ago
    reason: str


@dataclass(frozen=True)
class OrderSpec:
    number: str
    customer: str  # a persona key (conversations.py) or a key of SHOPPERS
    placed: float  # days ago
    lines: tuple[Line, ...]
    currency: str = "EUR"
    bill: Bill | None = field(default_factory=Bill)  # None: nothing to pay (replacement)
    shipments: tuple[Ship, ...] = ()
    returns: tuple[ReturnSpec, ...] = ()
    hold: Hold | None = None
    cancelled: bool = False
    postcode: str | None = None


@dataclass(frozen=True)
class Shopper:
    """A customer known to the shop only: the e-mail address an order was placed with."""

    name: str
    email: str
    language: str
    phone: str | None = None


#: E-mail addresses of personas that never wrote an e-mail: their orders still have one.
ORDER_EMAILS: dict[str, str] = {
    "kevin": "kevin.schulz@example.de",
    "olivia": "olivia.bennett@example.co.uk",
    "ryan": "ryan.patel@example.co.uk",
    "chloe": "chloe.murphy@example.ie",
}

SHOPPERS: dict[str, Shopper] = {
    "jan": Shopper("Jan Petersen", "jan.petersen@example.de", "de"),
    "sophie": Shopper("Sophie Klein", "sophie.klein@example.de", "de"),
    "maximilian": Shopper("Maximilian Roth", "max.roth@example.at", "de"),
    "laura": Shopper("Laura Becker", "laura.becker@example.de", "de"),
    "felix": Shopper("Felix Hartmann", "felix.hartmann@example.ch", "de"),
    "miriam": Shopper("Miriam Scholz", "miriam.scholz@example.de", "de"),
    "oliver": Shopper("Oliver Grant", "oliver.grant@example.co.uk", "en"),
    "amelia": Shopper("Amelia Hughes", "amelia.hughes@example.co.uk", "en"),
    "jack": Shopper("Jack Turner", "jack.turner@example.ie", "en"),
    "isla": Shopper("Isla Campbell", "isla.campbell@example.co.uk", "en"),
}

DHL, DPD, HERMES, GLS, UPS = "DHL", "DPD", "Hermes", "GLS", "UPS"
POST_AT, POST_CH, ROYAL_MAIL, AN_POST = "Österreichische Post", "Die Post", "Royal Mail", "An Post"

#: The orders the conversations are about, and a few more for states none of them is in.
ORDERS: tuple[OrderSpec, ...] = (
    OrderSpec("100145", "petra", 11, (Line("ROSALIE"),),
              shipments=(Ship(DHL, "00340434161094044410", 10, 8.15),)),
    OrderSpec("100166", "chloe", 22, (Line("ARAN", "M"),),
              shipments=(Ship(AN_POST, "CE482913210IE", 21.2, 20),)),
    OrderSpec("100167", "chloe", 22, (Line("ARAN", "M"),), cancelled=True,
              bill=Bill("cancelled")),
    OrderSpec("100211", "george", 13, (Line("SLIPPERS", "UK 10", price_cents=2999),),
              currency="GBP", shipments=(Ship(DPD, "15501234561234", 12, 11),),
              returns=(ReturnSpec(
                  (Back("SLIPPERS", "UK 10", "other", comment="size 9 delivered, not 10"),),
                  requested=8.14, source="agent",
                  steps=(Step("label_created", 8.14, ROYAL_MAIL),
                         Step("in_transit", 5.5, ROYAL_MAIL, "RX123456772GB"))),)),
    OrderSpec("100234", "anna", 10, (Line("MIA", "38"),), bill=Bill("open"), postcode="50823",
              shipments=(Ship(DHL, "00340434161094011218", 9, 7.5),),
              returns=(ReturnSpec((Back("MIA", "38", "too_small", exchange_to="40"),),
                                  requested=3.09, resolution="exchange", source="agent",
                                  steps=(Step("label_created", 3.08, DHL),)),)),
    OrderSpec("100277", "david", 13, (Line("OSLO", price_cents=8900),), currency="GBP",
              shipments=(Ship(DPD, "15501234560011", 11.5, 10.25),)),
    OrderSpec("100298", "melanie", 20, (Line("GRETA", "38"), Line("SMILLA", "38")),
              bill=Bill("open", reminder_level=1, reminded=0.4),
              shipments=(Ship(DHL, "00340434161094040071", 19, 17.5),),
              hold=Hold("agent@example.com", 0.33,
                        "Retoure laut DHL vor 9 Tagen zugestellt (00340434161094049977), im "
                        "Lager noch nicht gefunden")),
    OrderSpec("100318", "emily", 9.5, (Line("CAMDEN", "UK 10", price_cents=6500),),
              currency="GBP", shipments=(Ship(DPD, "15501234563318", 8.6, 8.1),),
              returns=(ReturnSpec(
                  (Back("CAMDEN", "UK 10", "too_small", exchange_to="UK 12"),),
                  requested=4.04, resolution="exchange", source="agent",
                  steps=(Step("label_created", 4.04, ROYAL_MAIL),
                         Step("in_transit", 1.5, ROYAL_MAIL, "RX123456785GB"))),)),
    OrderSpec("100362", "hannah", 22,
              (Line("LOU-WHITE", "M", price_cents=3800), Line("LOU-SAGE", "M", price_cents=3800)),
              currency="USD", shipments=(Ship(UPS, "1Z999AA10123456800", 21, 19.6),),
              returns=(ReturnSpec((Back("LOU-SAGE", "M", "too_small"),), requested=17.5,
                                  steps=(Step("in_transit", 16.8, UPS, "1Z999AA10123456817"),
                                         Step("received", 11.2))),)),
    OrderSpec("100389", "jonas", 15, (Line("BERGEN", "L"),),
              shipments=(Ship(DHL, "00340434161094033356", 14, 12.5),),
              returns=(ReturnSpec((Back("BERGEN", "L", "style"),), requested=11.6,
                                  steps=(Step("in_transit", 11.5, HERMES, "H1001990123456789012"),
                                         Step("received", 9.5, note="in der Qualitätsprüfung: "
                                              "Fleck am Ärmel?"))),)),
    OrderSpec("100455", "sabine", 15.5, (Line("ELENA", "39"),),
              shipments=(Ship(DHL, "00340434161094027318", 10.4, 8.3),)),
    OrderSpec("100512", "sabine", 36, (Line("LOTTA", "38"), Line("FEE", "M")),
              shipments=(Ship(DHL, "00340434161094021453", 35, 33),),
              returns=(ReturnSpec((Back("LOTTA", "38", "too_big"), Back("FEE", "M", "style")),
                                  requested=23.5,
                                  steps=(Step("in_transit", 23, DHL, "00340434161094072236"),
                                         Step("received", 6.5), Step("refunded", 2.02))),)),
    OrderSpec("100523", "megan", 32, (Line("CORK", "39"),),
              shipments=(Ship(GLS, "482913300125", 31, 29),),
              returns=(ReturnSpec((Back("CORK", "39", "too_small"),), requested=27.5,
                                  steps=(Step("in_transit", 27.3, AN_POST, "CE482913301IE"),
                                         Step("received", 16), Step("refunded", 13.25))),)),
    OrderSpec("100590", "lea", 11, (Line("LINA-COGNAC"),),
              shipments=(Ship(DHL, "00340434161094036671", 10.2, 9),),
              returns=(ReturnSpec((Back("LINA-COGNAC", "", "changed_mind"),), requested=7.5,
                                  steps=(Step("in_transit", 7.4, DHL, "00340434161094038821"),)),)),
    OrderSpec("100618", "lukas", 3.5, (Line("ALPIN", "L"),), bill=Bill("open"),
              shipments=(Ship(POST_AT, "1042348411302810212306", 2.1),)),
    OrderSpec("100644", "olivia", 15.5, (Line("LINEN", "UK 8", price_cents=7900),),
              currency="GBP",
              shipments=(Ship(DPD, "15501234567893", 14.5, 13),
                         Ship(DPD, "15501234567918", 1.9, kind="exchange")),
              returns=(ReturnSpec((Back("LINEN", "UK 8", "too_big", exchange_to="UK 6"),),
                                  requested=2.0, resolution="exchange", source="agent",
                                  steps=(Step("label_created", 2.0, DPD),)),)),
    OrderSpec("100688", "reto", 9, (Line("RUNA", "44"),), postcode="3011",
              shipments=(Ship(POST_CH, "99.60.123456.12349921", 8, 6),),
              returns=(ReturnSpec((Back("RUNA", "44", "too_big", exchange_to="43"),),
                                  requested=4.27, resolution="exchange", source="agent",
                                  steps=(Step("label_created", 4.27, POST_CH),)),)),
    OrderSpec("100702", "claudia", 5.3, (Line("BASEL", "M"),), postcode="8008",
              shipments=(Ship(POST_CH, "99.60.123456.12340702", 4.2, 0.65),)),
    OrderSpec("100703", "claudia", 5.29, (Line("BASEL", "M"),), cancelled=True,
              bill=Bill("cancelled")),
    OrderSpec("100733", "kevin", 9.5, (Line("NORDKAP-SCHWARZ", "L"),),
              bill=Bill("open", reminder_level=1, reminded=1.3),
              # The dark blue one came instead; the black one went out at once as a swap.
              shipments=(Ship(DHL, "00340434161094051128", 8.5, 7.45),
                         Ship(DHL, "00340434161094051999", 7.2, 6.2, kind="exchange"))),
    OrderSpec("100739", "michael", 34,
              (Line("VERONA", "US 10", price_cents=7990),
               Line("RUNA-US", "US 10", price_cents=7490)),
              currency="USD", bill=Bill("open", reminder_level=2, reminded=5.2),
              shipments=(Ship(UPS, "1Z999AA10123456771", 33, 31),),
              hold=Hold("lead@example.com", 4.13,
                        "UPS bestätigt die Zustellung der Retoure (1Z999AA10123456785); das "
                        "Lager sucht das Paket")),
    OrderSpec("100796", "david", 10, (Line("OSLO", price_cents=0),), currency="GBP", bill=None,
              shipments=(Ship(UPS, "1Z999AA10123456792", 3.2),)),
    OrderSpec("100812", "petra", 7,
              (Line("ROSALIE-TASSE", quantity=2, price_cents=0),
               Line("ROSALIE-UNTERTASSE", price_cents=0)),
              bill=None, shipments=(Ship(DPD, "01505523349981", 6, 4),)),
    OrderSpec("100811", "sarah", 7.3, (Line("SYLT", "M", price_cents=8900),), currency="USD",
              shipments=(Ship(UPS, "1Z999AA10123456784", 6.5),)),
    OrderSpec("100849", "ryan", 0.5, (Line("NORDKAP-SCHWARZ", "M", price_cents=5500),),
              currency="GBP"),
    OrderSpec("100871", "markus", 31, (Line("OXFORD", "41", 2), Line("HAMBURG", "32")),
              bill=Bill("open", reminder_level=2, reminded=10.5), postcode="80802",
              shipments=(Ship(DHL, "00340434161094010124", 30, 28.5),),
              returns=(ReturnSpec((Back("OXFORD", "41", "style", 2),
                                   Back("HAMBURG", "32", "too_small")),
                                  requested=10.44, source="agent",
                                  steps=(Step("received", 10.44, DHL, "00340434161094015902"),
                                         Step("refunded", 10.43))),)),
    OrderSpec("100901", "thomas", 10, (Line("MAILAND-SAKKO", "52"), Line("MAILAND-HOSE", "52")),
              bill=Bill("open", due_after=30), postcode="1060",
              shipments=(Ship(POST_AT, "1042348411302810219874", 9.5, 8.4),),
              returns=(ReturnSpec((Back("MAILAND-HOSE", "52", "too_big", exchange_to="50"),),
                                  requested=8.05, resolution="exchange", source="agent",
                                  steps=(Step("label_created", 8.05, POST_AT),
                                         Step("in_transit", 2.4, POST_AT,
                                              "1042348411302810227005"))),)),
    # Customers without conversations, for the states no conversation is in.
    OrderSpec("100877", "sophie", 26, (Line("RUNA", "38"),), bill=Bill("open"),
              shipments=(Ship(HERMES, "H1001990123456770877", 25, 23),
                         Ship(HERMES, "H1001990123456771877", 16.5, 14.5, kind="exchange")),
              returns=(ReturnSpec((Back("RUNA", "38", "too_small", exchange_to="39"),),
                                  requested=22, resolution="exchange",
                                  steps=(Step("in_transit", 21.8, HERMES, "H1001990123456772877"),
                                         Step("received", 17), Step("exchanged", 16.5))),)),
    OrderSpec("100893", "felix", 28, (Line("ELENA", "40"),), postcode="8400",
              shipments=(Ship(GLS, "482913308893", 27, 25),),
              returns=(ReturnSpec((Back("ELENA", "40", "not_as_described"),), requested=24,
                                  steps=(Step("in_transit", 23.5, GLS, "482913318893"),
                                         Step("received", 19),
                                         Step("rejected", 18.5,
                                              note="Ware getragen, Sohle abgelaufen"))),)),
    OrderSpec("100912", "james", 30, (Line("FJORD", "M"),),
              bill=Bill("open", reminder_level=1, reminded=6.4),
              shipments=(Ship(GLS, "482913377001", 29, 27),),
              returns=(ReturnSpec((Back("FJORD", "M", "changed_mind"),), requested=4.15,
                                  source="agent",
                                  steps=(Step("received", 4.14, AN_POST, "CE482913375IE"),
                                         Step("refunded", 4.13))),)),
    # The order James's return was booked against by mistake (a transposed number).
    OrderSpec("100921", "jan", 27, (Line("FJORD", "L"),),
              shipments=(Ship(HERMES, "H1001990123456780921", 26, 24),)),
    OrderSpec("100925", "priya", 9, (Line("IVY", "UK 10", price_cents=6900),), currency="GBP",
              shipments=(Ship(DPD, "15501234565555", 7.5, 5.5),)),
    OrderSpec("100958", "priya", 2.3, (Line("RUNA", "39", price_cents=9900),), currency="GBP"),
    OrderSpec("100970", "laura", 6, (Line("LOTTA", "36"), Line("FEE", "S")), bill=Bill("open"),
              shipments=(Ship(DPD, "01505523350970", 5, 3),),
              returns=(ReturnSpec((Back("FEE", "S", "changed_mind"),), requested=0.8),)),
    # The story of the issue: the boots went back two weeks ago with the slip from the
    # parcel, nobody registered the return, and the reminder was printed before the
    # warehouse booked it two days ago. Heike keeps the scarf.
    OrderSpec("100964", "heike", 25, (Line("IDA", "39"), Line("WOLKE")), postcode="04107",
              bill=Bill("open", reminder_level=1, reminded=3.0),
              shipments=(Ship(DHL, "00340434161094080025", 24, 22.5),),
              returns=(ReturnSpec((Back("IDA", "39", "too_small"),), requested=2.1,
                                  source="shop",
                                  steps=(Step("received", 2.1, DHL, "00340434161094083317"),)),)),
)  # fmt: skip

#: The reasons customers give, weighted as the shops report them (DESIGN.md).
REASON_WEIGHTS: dict[str, int] = {
    "too_small": 30,
    "too_big": 22,
    "changed_mind": 12,
    "style": 8,
    "not_as_described": 5,
    "defective": 5,
    "other": 18,
}
_EVERYDAY = ("MIA", "LOTTA", "RUNA", "ELENA", "IDA", "NORDKAP-SCHWARZ", "OXFORD", "CAMDEN",
             "LINEN", "FJORD", "CORK", "GRETA", "SMILLA", "BASEL")  # fmt: skip
_CARRIERS = (
    (DHL, lambda r: f"003404341610{r.randrange(10**8):08d}"),
    (DPD, lambda r: f"0150{r.randrange(10**10):010d}"),
    (HERMES, lambda r: f"H10{r.randrange(10**17):017d}"),
    (GLS, lambda r: f"48{r.randrange(10**10):010d}"),
    (UPS, lambda r: f"1Z999AA1{r.randrange(10**10):010d}"),
)


def everyday_orders(count: int = 36, weeks: int = 12) -> tuple[OrderSpec, ...]:
    """Orders of customers without conversations over the last `weeks` weeks, most with a
    return in the state its age suggests. The same every time (a fixed seed)."""
    rng = random.Random(5)
    shoppers = list(SHOPPERS)
    reasons, weights = list(REASON_WEIGHTS), list(REASON_WEIGHTS.values())
    orders = []
    for index in range(count):
        placed = round(rng.uniform(3, weeks * 7), 2)
        products = rng.sample(_EVERYDAY, rng.choice((1, 1, 2, 2, 3)))
        lines = tuple(Line(key, _any_size(PRODUCTS[key], rng)) for key in products)
        carrier, tracking = rng.choice(_CARRIERS)
        ship = Ship(carrier, tracking(rng), placed - 1, max(placed - 3, 0.5))
        returns: tuple[ReturnSpec, ...] = ()
        if placed > 6 and rng.random() < 0.75:
            returned = lines[: rng.choice((1, 1, 2))]
            backs = tuple(Back(line.product, line.size, rng.choices(reasons, weights)[0])
                          for line in returned)  # fmt: skip
            returns = (_everyday_return(backs, placed, rng),)
        open_bill = rng.random() < 0.4
        overdue = placed > 18
        reminded = open_bill and overdue and not returns  # returned goods get no reminder
        bill = Bill(
            "open" if open_bill else "paid",
            reminder_level=(1 if placed < 30 else 2) if reminded else 0,
            reminded=placed - 16 if reminded else None,
        )
        orders.append(OrderSpec(str(101001 + index), shoppers[index % len(shoppers)], placed,
                                lines, bill=bill, shipments=(ship,), returns=returns))  # fmt: skip
    return tuple(orders)


def _any_size(product: Product, rng: random.Random) -> str:
    return rng.choice([size for size in product.stock if size] or [""])


def _everyday_return(backs: tuple[Back, ...], placed: float, rng: random.Random) -> ReturnSpec:
    """A return requested a few days after delivery that got as far as its age allows."""
    requested = placed - rng.uniform(3, 5)
    carrier, tracking = rng.choice(_CARRIERS)
    steps = [Step("in_transit", requested - 0.5, carrier, tracking(rng))]
    if requested > 5:
        steps.append(Step("received", requested - 4))
    if requested > 9:
        final = "rejected" if rng.random() < 0.08 else "refunded"
        note = "Ware getragen, Etiketten entfernt" if final == "rejected" else None
        steps.append(Step(final, requested - 6, note=note))
    return ReturnSpec(backs, requested=round(requested, 2), steps=tuple(steps))
