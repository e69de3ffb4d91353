"""Deterministic demo data for a digital mall in Ghent, Belgium.

Used by ``make run`` to seed the local stack through the same service functions the API uses.

* :func:`demo_shops` returns the bodies of the operator's "create shop" calls, each with an extra
  ``"key"`` field (a stable short key, also listed in :data:`SHOP_KEYS`).
* :func:`demo_products` returns the bodies of the retailer's "create product" calls for one shop.

All shops, streets and products are fictional (the streets and neighbourhoods are real). The data is
built from hand-written tables; stock levels are derived from a CRC32 of the SKU, so every call
returns exactly the same data, with no randomness, no network and only the standard library.
"""

from __future__ import annotations

import copy
import unicodedata
import zlib
from typing import Any, NamedTuple

from chalicelib.catalog.taxonomy import CATEGORIES

TAXONOMY = CATEGORIES  # the mall's own taxonomy; re-exported for the demo tables

# Belgian reduced VAT rate (6 %) applies to food, books and flowers/plants; everything else is 21 %.
# Alcoholic drinks (wine-spirits) and pet supplies are taxed at the standard rate.
_FOOD_CATEGORIES: tuple[str, ...] = (
    "bakery",
    "butcher",
    "cheese-deli",
    "grocery",
    "coffee-tea",
    "chocolate-sweets",
)
REDUCED_VAT_CATEGORIES: frozenset[str] = frozenset((*_FOOD_CATEGORIES, "books", "flowers-plants"))
VAT_REDUCED_BPS = 600
VAT_STANDARD_BPS = 2100

# Categories whose prices are rounded to 10 cents (food); other prices end in .95 / .45 / .00.
_EDIBLE_CATEGORIES: frozenset[str] = frozenset(_FOOD_CATEGORIES)

KORENMARKT: tuple[float, float] = (51.0543, 3.7219)
_DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_COMMON_CLOSED_DATES: tuple[str, ...] = ("2026-12-25", "2027-01-01")

Variants = list[tuple[dict[str, str], float]]  # (options, price multiplier relative to the base price)


# --------------------------------------------------------------------------------------------------
# Small helpers used by the tables below
# --------------------------------------------------------------------------------------------------


def _hours(*days: str) -> dict[str, list[list[str]]]:
    """Opening hours from seven compact strings, Monday first: "09:30-12:30 13:30-18:00" or "" (closed)."""
    return {day: [slot.split("-") for slot in spec.split()] for day, spec in zip(_DAYS, days, strict=True)}


def _axis(key: str, *values: tuple[str, float]) -> Variants:
    return [({key: value}, mult) for value, mult in values]


def _flat(key: str, *values: str) -> Variants:
    """One option axis where every value costs the same (colours, sizes of clothing...)."""
    return [({key: value}, 1.0) for value in values]


def _colours(*colours: str) -> Variants:
    return _flat("colour", *colours)


def _cs(colours: tuple[str, ...], sizes: tuple[str, ...] = ("S", "M", "L")) -> Variants:
    """Clothing grid: colour x size, all at the same price."""
    return [({"size": size, "colour": colour}, 1.0) for colour in colours for size in sizes]


def _eu(first: int, count: int = 6) -> Variants:
    return _flat("size", *(f"EU {size}" for size in range(first, first + count)))


VARIANT_SETS: dict[str, Variants] = {
    "single": [({}, 1.0)],
    "bread": _axis("size", ("400 g", 1.0), ("800 g", 1.7)),
    "pastry": _axis("pack", ("1 piece", 1.0), ("box of 4", 3.9), ("box of 8", 7.6)),
    "rolls": _axis("pack", ("1 piece", 1.0), ("bag of 6", 5.8), ("bag of 12", 11.0)),
    "cake": _axis("size", ("4 persons", 1.0), ("6 persons", 1.45), ("8 persons", 1.9)),
    "bag": _axis("size", ("250 g", 1.0), ("500 g", 1.85)),
    "steak": _axis("weight", ("200 g", 1.0), ("300 g", 1.5), ("400 g", 2.0)),
    "half_kilo": _axis("weight", ("500 g", 1.0), ("1 kg", 1.95)),
    "sliced": _axis("weight", ("150 g", 1.0), ("300 g", 1.95)),
    "pieces": _axis("pack", ("4 pieces", 1.0), ("8 pieces", 1.95)),
    "ready": _axis("portions", ("1 person", 1.0), ("2 persons", 1.9), ("4 persons", 3.6)),
    "cheese": _axis("weight", ("150 g", 1.0), ("300 g", 1.95), ("500 g", 3.2)),
    "jar": _axis("size", ("200 ml", 1.0), ("500 ml", 2.1)),
    "tub": _axis("weight", ("200 g", 1.0), ("400 g", 1.9)),
    "bottle": _axis("size", ("75 cl", 1.0), ("box of 6 x 75 cl", 5.7)),
    "magnum": _axis("size", ("75 cl", 1.0), ("magnum 150 cl", 2.2)),
    "spirits": _axis("size", ("50 cl", 1.0), ("70 cl", 1.35)),
    "beer": _axis("size", ("33 cl", 1.0), ("crate of 24 x 33 cl", 16.0)),
    "coffee": [
        ({"size": size, "grind": grind}, mult)
        for size, mult in (("250 g", 1.0), ("1 kg", 3.6))
        for grind in ("whole bean", "filter grind")
    ],
    "tea": _axis("size", ("100 g", 1.0), ("250 g", 2.3)),
    "choc_box": _axis("size", ("250 g", 1.0), ("500 g", 1.9), ("750 g", 2.75)),
    "xs_xl": _flat("size", "XS", "S", "M", "L", "XL"),
    "sml": _flat("size", "S", "M", "L"),
    "s_xl": _flat("size", "S", "M", "L", "XL"),
    "metal": _axis("material", ("sterling silver", 1.0), ("gold-plated silver", 1.35)),
    "ring": _flat("size", "50", "52", "54", "56", "58"),
    "socks": _flat("size", "35-38", "39-42", "43-46"),
    "book": _axis("format", ("paperback", 1.0), ("hardcover", 1.4)),
    "comic": _axis("format", ("softcover", 1.0), ("hardcover", 1.6)),
    "bouquet": _axis("size", ("small", 1.0), ("medium", 1.5), ("large", 2.1)),
    "pot": _axis("pot", ("Ø 12 cm", 1.0), ("Ø 17 cm", 1.8)),
    "pot_large": _axis("pot", ("Ø 17 cm", 1.0), ("Ø 24 cm", 1.9)),
    "planters": _axis("size", ("Ø 12 cm", 1.0), ("Ø 17 cm", 1.6), ("Ø 24 cm", 2.5)),
    "frame": _flat("frame", "S (49 cm)", "M (53 cm)", "L (57 cm)"),
    "pet_food": _axis("size", ("2 kg", 1.0), ("7 kg", 2.9), ("12 kg", 4.4)),
    "box": _axis(
        "size", ("small (1-2 persons)", 1.0), ("medium (3-4 persons)", 1.6), ("large (5-6 persons)", 2.2)
    ),
    "eggs": _axis("pack", ("6 eggs", 1.0), ("12 eggs", 1.9)),
    "kg": _axis("weight", ("1 kg", 1.0), ("2.5 kg", 2.3)),
    "litre": _axis("size", ("1 l", 1.0), ("box of 6 x 1 l", 5.6)),
}


class Item(NamedTuple):
    """One product row: variants is a key of VARIANT_SETS or an explicit list; category defaults to the
    shop's first category."""

    name: str
    desc: str
    price: int  # cents incl. VAT for a multiplier of 1.0
    variants: str | Variants = "single"
    category: str | None = None


class Catalogue(NamedTuple):
    prefix: str  # SKU prefix, unique per shop
    tagline: str  # appended to every product description
    max_stock: int
    items: list[Item]


def _shop(
    key: str,
    name: str,
    categories: list[str],
    description: str,
    street: str,
    postal_code: str,
    lat: float,
    lng: float,
    phone: str,
    email: str,
    hours: dict[str, list[list[str]]],
    *,
    pickup: tuple[bool, int, str] = (True, 2, "Ask at the counter"),
    delivery: tuple[bool, float, int, int | None] = (True, 5, 495, 5000),
    extra_closed: tuple[str, ...] = (),
    slots: tuple[int, int, int] | None = None,
) -> dict[str, Any]:
    # slots: (length_minutes, capacity, preparation_minutes) for a shop that books pickup slots.
    slot_config = (
        {"slots": {"length_minutes": slots[0], "capacity": slots[1], "preparation_minutes": slots[2]}}
        if slots
        else {}
    )
    return {
        "key": key,
        "name": name,
        "description": description,
        "categories": categories,
        "address": {"street": street, "postal_code": postal_code, "city": "Gent", "country": "BE"},
        "location": {"lat": lat, "lng": lng},
        "timezone": "Europe/Brussels",
        "phone": phone,
        "email": email,
        "opening_hours": hours,
        "closed_dates": sorted(set(_COMMON_CLOSED_DATES) | set(extra_closed)),
        "pickup": {
            "enabled": pickup[0],
            "ready_within_hours": pickup[1],
            "instructions": pickup[2],
            **slot_config,
        },
        "delivery": {
            "enabled": delivery[0],
            "radius_km": delivery[1],
            "fee_cents": delivery[2],
            "free_over_cents": delivery[3],
        },
    }


# Frequently used opening-hour strings.
_LUNCH = "09:30-12:30 13:30-18:00"
_SHOP = "10:00-18:00"
_NO_DELIVERY: tuple[bool, float, int, int | None] = (False, 3, 495, None)

# --------------------------------------------------------------------------------------------------
# Shops
# --------------------------------------------------------------------------------------------------

# fmt: off
_SHOPS: tuple[dict[str, Any], ...] = (
    _shop(
        "bakkerij-de-graanzolder", "Bakkerij De Graanzolder", ["bakery"],
        "Artisan bakery in Sint-Pieters baking sourdough, Flemish classics and pastries every night. "
        "Order before 20:00 and your bread is ready from 07:00 the next morning.",
        "Sint-Pietersnieuwstraat 118", "9000", 51.0437, 3.7268, "+32 9 223 41 87", "hallo@graanzolder.be",
        _hours("", "06:30-18:30", "06:30-18:30", "06:30-18:30", "06:30-18:30", "06:30-17:00", "07:00-12:30"),
        pickup=(True, 1, "Ask at the counter, orders are kept on the shelf behind the till"),
        delivery=_NO_DELIVERY, extra_closed=("2026-07-21", "2026-08-10", "2026-08-11"),
    ),
    _shop(
        "slagerij-vandenbroucke", "Slagerij Vandenbroucke", ["butcher"],
        "Family butcher in Ledeberg since 1978. Meat from farms in East Flanders, home-made charcuterie "
        "and ready meals cooked in our own kitchen.",
        "Brusselsesteenweg 145", "9050", 51.0392, 3.7398, "+32 9 231 08 54", "hallo@slagerijvandenbroucke.be",
        _hours("", "08:00-12:30 13:30-18:00", "08:00-12:30 13:30-18:00", "08:00-12:30 13:30-18:00",
               "08:00-18:00", "07:30-16:00", "08:00-12:00"),
        pickup=(True, 3, "Ask at the counter, cold items are kept in the fridge"),
        delivery=(True, 4.5, 395, 5000),
    ),
    _shop(
        "kaashandel-het-melkmeisje", "Kaashandel Het Melkmeisje", ["cheese-deli", "wine-spirits", "grocery"],
        "Cheese shop and delicatessen on the Oudburg with more than 150 cheeses matured in our own cellar, "
        "plus charcuterie, pantry goods and wines to go with them.",
        "Oudburg 37", "9000", 51.0578, 3.7238, "+32 9 225 17 60", "hallo@melkmeisje.be",
        _hours("", "09:30-18:00", "09:30-18:00", "09:30-18:00", "09:30-18:00", "09:00-18:00", ""),
    ),
    _shop(
        "wijnhuis-de-keldermeester", "Wijnhuis De Keldermeester", ["wine-spirits"],
        "Independent wine merchant near Sint-Pieters station. Wines from small growers, Belgian gin and "
        "jenever, and abbey beers. Free tastings every Saturday afternoon.",
        "Kortrijksesteenweg 214", "9000", 51.0388, 3.7118, "+32 9 222 93 15", "hallo@keldermeester.be",
        _hours("", "10:00-18:30", "10:00-18:30", "10:00-18:30", "10:00-19:00", "10:00-18:00", ""),
        pickup=(True, 2, "Ring the bell at the cellar door if the shop is busy"),
        delivery=(True, 8, 695, 5000),
    ),
    _shop(
        "koffiebranderij-het-boontje", "Koffiebranderij Het Boontje", ["coffee-tea", "kitchenware"],
        "Small-batch coffee roastery and tea shop at Dampoort. We roast twice a week and grind to order "
        "for your brewing method.",
        "Dampoortstraat 54", "9000", 51.0578, 3.7372, "+32 9 234 66 02", "hallo@hetboontje.be",
        _hours("08:00-18:00", "08:00-18:00", "08:00-18:00", "08:00-18:00", "08:00-18:00", "09:00-17:00", ""),
        delivery=(True, 6, 395, 5000),
    ),
    _shop(
        "chocolaterie-pralinette", "Chocolaterie Pralinette", ["chocolate-sweets"],
        "Chocolatier near the Kouter making pralines, bars and Ghent cuberdons by hand. "
        "Gift wrapping is free, just add a note to your order.",
        "Mageleinstraat 21", "9000", 51.0530, 3.7248, "+32 9 225 80 39", "hallo@pralinette.be",
        _hours(_SHOP, _SHOP, _SHOP, _SHOP, _SHOP, "10:00-18:30", "11:00-17:00"),
        delivery=(True, 3.5, 495, None),
    ),
    _shop(
        "boetiek-marie-lou", "Boetiek Marie-Lou", ["fashion", "jewellery"],
        "Women's fashion boutique on the Veldstraat with garments from small European ateliers, natural "
        "fabrics and handmade silver jewellery.",
        "Veldstraat 64", "9000", 51.0518, 3.7222, "+32 9 233 12 48", "hallo@marielou.be",
        _hours("13:00-18:00", _SHOP, _SHOP, _SHOP, _SHOP, "10:00-18:30", ""),
    ),
    _shop(
        "schoenen-de-stapper", "Schoenen De Stapper", ["shoes"],
        "Shoe shop on the Nederkouter for women, men and children, specialised in leather shoes that can "
        "be resoled. We measure both feet before you buy.",
        "Nederkouter 96", "9000", 51.0478, 3.7226, "+32 9 224 37 71", "hallo@destapper.be",
        _hours("", _LUNCH, _LUNCH, _LUNCH, _LUNCH, "09:30-17:30", ""),
        pickup=(True, 4, "Ask at the counter, we will check the fit with you"),
        delivery=_NO_DELIVERY, slots=(30, 2, 240),
    ),
    _shop(
        "boekhandel-de-leesvink", "Boekhandel De Leesvink", ["books", "stationery"],
        "Independent bookshop between the Zuid and Sint-Pieters with Dutch and English books, a large "
        "children's corner and fine stationery.",
        "Walpoortstraat 19", "9000", 51.0463, 3.7256, "+32 9 223 59 26", "hallo@leesvink.be",
        _hours("12:00-18:30", "10:00-18:30", "10:00-18:30", "10:00-18:30", "10:00-18:30", "10:00-18:00", ""),
        delivery=(True, 6, 295, 5000),
    ),
    _shop(
        "speelgoed-de-draaitol", "Speelgoedwinkel De Draaitol", ["toys", "art-crafts"],
        "Toy shop on the Brabantdam with wooden toys, board games and craft supplies for children "
        "of all ages. Every toy is tried out by our own children first.",
        "Brabantdam 88", "9000", 51.0497, 3.7289, "+32 9 225 04 93", "hallo@draaitol.be",
        _hours("", _SHOP, "09:30-18:00", _SHOP, _SHOP, "09:30-18:00", ""),
        extra_closed=("2026-07-21",), slots=(15, 4, 60),
    ),
    _shop(
        "bloemenatelier-de-lindeboom", "Bloemenatelier De Lindeboom", ["flowers-plants", "home-deco"],
        "Florist in Ledeberg making hand-tied bouquets with flowers from Belgian growers, houseplants, "
        "Ghent azaleas and a small collection of ceramics.",
        "Hundelgemsesteenweg 77", "9050", 51.0362, 3.7335, "+32 9 231 72 18", "hallo@delindeboom.be",
        _hours("", "09:00-18:30", "09:00-18:30", "09:00-18:30", "09:00-18:30", "09:00-18:00", "09:00-13:00"),
        pickup=(True, 3, "Bouquets are kept in water in the cold room, ask at the counter"),
        delivery=(True, 7, 595, None),
    ),
    _shop(
        "fietsatelier-de-ketting", "Fietsatelier De Ketting", ["bikes", "sports"],
        "Bike shop and repair workshop in the Rabot selling city bikes, e-bikes and cargo bikes, plus "
        "everything you need to ride through Ghent in the rain.",
        "Rabotstraat 40", "9000", 51.0608, 3.7122, "+32 9 227 85 30", "hallo@deketting.be",
        _hours("", "09:00-12:00 13:00-18:30", "09:00-12:00 13:00-18:30", "09:00-12:00 13:00-18:30",
               "09:00-12:00 13:00-18:30", "09:00-17:00", ""),
        pickup=(True, 24, "Bikes are adjusted to your height at pickup, allow 15 minutes"),
        delivery=_NO_DELIVERY, extra_closed=("2026-08-03", "2026-08-04", "2026-08-05"), slots=(60, 1, 1440),
    ),
    _shop(
        "groentepakket-het-moestuintje", "Groentepakket Het Moestuintje", ["grocery"],
        "Weekly vegetable and fruit boxes from organic farms around Ghent, packed in our depot in "
        "Sint-Amandsberg. Delivery only, by cargo bike.",
        "Antwerpsesteenweg 312", "9040", 51.0655, 3.7490, "+32 9 228 40 66", "hallo@moestuintje.be",
        _hours("08:00-16:00", "08:00-16:00", "08:00-16:00", "08:00-16:00", "08:00-16:00", "", ""),
        pickup=(False, 2, "Delivery only, there is no shop counter at our depot"),
        delivery=(True, 8, 295, 5000),
    ),
    _shop(
        "dierenspeciaalzaak-snuffel", "Dierenspeciaalzaak Snuffel", ["pets"],
        "Pet shop near Dampoort station with food, toys and care products for dogs, cats, birds and "
        "small animals, and honest advice from people who keep animals themselves.",
        "Antwerpsesteenweg 58", "9040", 51.0612, 3.7430, "+32 9 228 19 75", "hallo@snuffel.be",
        _hours("", _LUNCH, _LUNCH, _LUNCH, _LUNCH, "09:30-18:00", ""),
        delivery=(True, 5, 395, 5000),
    ),
)

# fmt: on

SHOP_KEYS: list[str] = [shop["key"] for shop in _SHOPS]

# --------------------------------------------------------------------------------------------------
# Products per shop
# --------------------------------------------------------------------------------------------------

# fmt: off
_CATALOGUES: dict[str, Catalogue] = {
    "bakkerij-de-graanzolder": Catalogue("GRZ", "Baked every morning in our workshop in Sint-Pieters.", 40, [
        Item("Sourdough country loaf", "Naturally leavened wheat and rye sourdough with a dark, crackling "
             "crust.", 450, "bread"),
        Item("Spelt loaf", "Wholegrain spelt from a farm near Oudenaarde, mild and nutty.", 420, "bread"),
        Item("Grey wheat bread", "Classic Flemish half-wholemeal tin loaf, sliced on request.", 310, "bread"),
        Item("White farmhouse loaf", "Soft tin loaf with a golden crust, the everyday sandwich bread.", 280,
             "bread"),
        Item("Multigrain seeded loaf", "Packed with sunflower, pumpkin, flax and sesame seeds.",
             390, "bread"),
        Item("Raisin bread", "Brioche-style cramique with plenty of plump raisins.", 380, "bread"),
        Item("Sugar bread", "Ghent-style brioche with pearl sugar baked into the crumb.", 420, "bread"),
        Item("Butter croissant", "Laminated with Belgian butter, flaky outside and soft inside.",
             130, "pastry"),
        Item("Pain au chocolat", "Croissant dough rolled around two sticks of dark chocolate.",
             150, "pastry"),
        Item("Ghent mastel", "Round cinnamon bun, a Ghent tradition around Saint Hubert's day.",
             140, "pastry"),
        Item("Pistolets", "Crusty Belgian breakfast rolls, the Sunday morning classic.", 60, "rolls"),
        Item("Baguette tradition", "Long-fermented French baguette with an open, creamy crumb.", 190),
        Item("Apple crumble tart", "Shortcrust tart with Jonagold apples and a cinnamon crumble.",
             1450, "cake"),
        Item("Rice tart", "Creamy Flemish rice pudding tart with vanilla and a hint of saffron.",
             1350, "cake"),
        Item("Frangipane tart", "Almond cream tart with an apricot glaze.", 1550, "cake"),
        Item("Speculoos biscuits", "Crunchy caramelised spiced biscuits, pressed in wooden moulds.",
             490, "bag"),
        Item("Christmas stollen", "Rich stollen with a marzipan core, dried fruit and rum.", 1250),
    ]),
    "slagerij-vandenbroucke": Catalogue("VDB", "Cut to order by our butchers in Ledeberg.", 30, [
        Item("Belgian Blue sirloin steak", "Lean steak from Belgian Blue cattle, dry-aged for 21 days.", 690,
             "steak"),
        Item("Ribeye steak", "Well-marbled entrecote, dry-aged on the bone for extra flavour.", 890, "steak"),
        Item("Pork and veal mince", "The Belgian classic for meatballs in tomato sauce and vol-au-vent.", 595,
             "half_kilo"),
        Item("Beef stew cubes", "Beef shoulder cubes for Flemish carbonnade with brown beer.", 890,
             "half_kilo"),
        Item("Free-range chicken breast", "Free-range chicken from the Ardennes, skin removed.", 690,
             "half_kilo"),
        Item("Herb pork sausages", "Coarse pork sausages seasoned with thyme and nutmeg.", 450, "pieces"),
        Item("Lamb cutlets", "Lamb from the Flemish polders, French-trimmed cutlets.", 1290, "pieces"),
        Item("Pork tenderloin", "Whole lean tenderloin of about 500 g, perfect for roasting.", 1190),
        Item("Ghent ham", "Ghent-style cured and smoked ham, sliced wafer thin.", 390, "sliced"),
        Item("Smoked streaky bacon", "Beech-smoked pork belly, cut thick.", 380, "sliced"),
        Item("Country pate", "Coarse pork pate with cognac and green pepper.", 320, "sliced"),
        Item("Filet americain", "Finely minced raw beef with mayonnaise, capers and onion, made each "
             "morning.", 390, "tub"),
        Item("Meatballs in tomato sauce", "Pork and veal meatballs in a slow-cooked tomato sauce, ready to "
             "heat.", 1190, "ready"),
        Item("Vol-au-vent", "Chicken and meatballs in a creamy mushroom sauce, with puff pastry shells.",
             1290,
             "ready"),
        Item("Flemish carbonnade", "Beef slowly stewed in dark abbey beer with onion and gingerbread.", 1390,
             "ready"),
        Item("Barbecue package", "Burgers, sausages, chicken skewers and marinated pork belly for four.",
             3490),
    ]),
    "kaashandel-het-melkmeisje": Catalogue("MLM", "Cut to order and matured in our cellar on the Oudburg.",
                                           25, [
        Item("Aged farmhouse Gouda", "Raw cow's milk Gouda matured 24 months, with salt crystals and caramel "
             "notes.", 420, "cheese"),
        Item("Belgian abbey cheese", "Semi-hard washed-rind abbey cheese, mild and creamy.", 380, "cheese"),
        Item("Herve PDO", "Pungent soft cow's milk cheese from the Land of Herve, washed with beer.", 590),
        Item("Brie de Meaux", "Creamy French cow's milk cheese with a bloomy rind.", 490, "cheese"),
        Item("Comte 18 months", "Alpine raw-milk cheese from the Jura with hazelnut and brown butter notes.",
             520, "cheese"),
        Item("Parmigiano Reggiano 30 months", "Italian hard cheese, grainy and savoury, for grating or "
             "snacking.", 490, "cheese"),
        Item("Roquefort", "Sheep's milk blue cheese matured in the caves of Roquefort.", 560, "cheese"),
        Item("Fresh goat's cheese with herbs", "From a goat farm in the Flemish Ardennes, rolled in chives "
             "and garlic.", 360),
        Item("Raclette cheese", "Semi-soft Savoy cheese that melts evenly, sliced for the raclette grill.",
             450, "cheese"),
        Item("Cheese board", "Five Belgian and French cheeses with fig bread, walnuts and grapes.", 2950,
             "cake"),
        Item("Finocchiona salami", "Tuscan pork salami with fennel seeds, sliced thin.", 490, "cheese"),
        Item("Green olives with lemon", "Marinated Italian olives with lemon zest, garlic and oregano.",
             450, "tub"),
        Item("Iberico ham", "Acorn-fed Iberico ham from Spain, hand-carved, 100 g.", 1290),
        Item("Stone-ground mustard", "Sharp, grainy mustard ground between millstones, the Ghent way.", 450,
             "jar", "grocery"),
        Item("Fig and walnut chutney", "Sweet and spicy chutney for blue and hard cheeses.", 590, "single",
             "grocery"),
        Item("Tawny port 10 years", "Nutty Portuguese fortified wine with dried fruit and toffee.", 2890,
             "single", "wine-spirits"),
        Item("Loire Chenin Blanc", "Dry white wine from Anjou with quince and honey, lovely with goat's "
             "cheese.", 1490, "bottle", "wine-spirits"),
    ]),
    "wijnhuis-de-keldermeester": Catalogue("KLD", "Stored at cellar temperature and tasted by us before it "
                                           "reaches the shelf.", 60, [
        Item("Cotes du Rhone red", "Grenache and Syrah blend with ripe cherry and black pepper.", 1150,
             "bottle"),
        Item("Bordeaux Superieur", "Merlot-led red with cassis and cedar, good with stew.", 1490, "bottle"),
        Item("Rioja Crianza", "Tempranillo aged 12 months in oak, with vanilla and red fruit.",
             1290, "bottle"),
        Item("Primitivo di Manduria", "Full-bodied red from Puglia with plum and liquorice.", 1590, "bottle"),
        Item("Chablis", "Unoaked Burgundy Chardonnay, flinty with citrus and green apple.", 2190, "bottle"),
        Item("Sancerre", "Loire Sauvignon Blanc with gooseberry and a chalky finish.", 2390, "bottle"),
        Item("Mosel Riesling Kabinett", "Off-dry German white with apple, lime and slate.", 1450, "bottle"),
        Item("Hageland Chardonnay", "Belgian white wine from the Hageland, crisp with pear and brioche.",
             1890, "bottle"),
        Item("Vinho Verde", "Light, slightly sparkling Portuguese white, low in alcohol.", 990, "bottle"),
        Item("Provence rose", "Pale dry rose with strawberry and herbs.", 1490, "bottle"),
        Item("Champagne brut", "Grower champagne, Pinot Noir and Chardonnay, fine bubbles and brioche.", 3990,
             "magnum"),
        Item("Belgian sparkling wine", "Traditional-method sparkling wine from Wallonia, dry and fresh.",
             2290),
        Item("Prosecco Superiore", "Valdobbiadene sparkling wine with peach and white flowers.", 1390),
        Item("Dry gin with hops", "Belgian gin with juniper, orange peel and Poperinge hops.",
             3490, "spirits"),
        Item("Old grain jenever", "East Flemish grain jenever, malty and smooth.", 2490, "spirits"),
        Item("Speyside single malt 12 years", "Scotch whisky with honey, vanilla and oak.", 5490),
        Item("Abbey tripel", "Golden Belgian tripel beer, 8.5 %, bottle-conditioned.", 290, "beer"),
        Item("Amber city ale", "Malty amber beer brewed in Ghent with caramel and spice.", 250, "beer"),
    ]),
    "koffiebranderij-het-boontje": Catalogue("BNT", "Roasted and packed in our shop at Dampoort.", 50, [
        Item("Ethiopia Yirgacheffe", "Washed light roast with jasmine, bergamot and lemon.", 890, "coffee"),
        Item("Colombia Huila", "Medium roast with caramel, red apple and a round body.", 790, "coffee"),
        Item("Brazil Cerrado", "Chocolatey and nutty medium-dark roast with low acidity.", 690, "coffee"),
        Item("Guatemala Antigua", "Cocoa, orange peel and brown sugar from volcanic soil.", 820, "coffee"),
        Item("Rwanda Kivu", "Fruity Arabica with redcurrant and black tea notes.", 890, "coffee"),
        Item("Dampoort espresso blend", "Our house espresso of Brazilian and Indian beans, dark chocolate "
             "and hazelnut.", 750, "coffee"),
        Item("Decaf Mexico", "Swiss Water decaffeinated Arabica, mild with milk chocolate notes.", 790,
             "coffee"),
        Item("Darjeeling first flush", "Spring-picked black tea from India, floral and muscatel.",
             990, "tea"),
        Item("Japanese sencha", "Steamed green tea, grassy and sweet.", 890, "tea"),
        Item("Earl Grey", "Black tea from Sri Lanka with natural bergamot oil.", 690, "tea"),
        Item("Rooibos vanilla", "Caffeine-free South African rooibos with vanilla pieces.", 590, "tea"),
        Item("Mint and verbena infusion", "Herbal tea of fresh-dried mint and lemon verbena.", 650, "tea"),
        Item("Chai spice blend", "Assam tea with cardamom, cinnamon, ginger and clove.", 690, "tea"),
        Item("Hand coffee grinder", "Stainless steel hand grinder with ceramic conical burrs.",
             5990, "single",
             "kitchenware"),
        Item("Porcelain pour-over dripper", "Size 02 dripper for one to four cups, made in Japan.", 2495,
             _colours("white", "sand", "charcoal"), "kitchenware"),
        Item("Glass teapot with infuser", "Borosilicate glass teapot of 1 litre with a steel infuser.", 3495,
             "single", "kitchenware"),
        Item("Paper coffee filters", "Unbleached size 02 filters, 100 pieces.", 595, "single", "kitchenware"),
        Item("Stovetop espresso maker", "Aluminium moka pot for gas and electric hobs.", 3995,
             _axis("size", ("3 cups", 1.0), ("6 cups", 1.25)), "kitchenware"),
    ]),
    "chocolaterie-pralinette": Catalogue("PRL", "Handmade in Ghent with Belgian couverture chocolate.", 40, [
        Item("Assorted pralines", "Our selection of 24 pralines: ganache, praline and caramel.", 1590,
             "choc_box"),
        Item("Dark praline selection", "Only dark chocolate pralines, with ganaches of tea, spice and fruit.",
             1690, "choc_box"),
        Item("Milk praline selection", "Milk chocolate pralines with hazelnut, caramel and coffee.", 1590,
             "choc_box"),
        Item("Manons", "Fresh cream pralines in white chocolate with coffee buttercream and walnut.", 1690,
             "choc_box"),
        Item("Chocolate truffles", "Soft dark ganache rolled in cocoa powder.", 1190, "choc_box"),
        Item("Cuberdons", "Cone-shaped raspberry sweets with a syrupy heart, the Ghent noses.", 595, "bag"),
        Item("Hot chocolate flakes", "Shaved dark and milk chocolate to melt into hot milk.", 690, "bag"),
        Item("Hazelnut chocolate spread", "Spread with 40 % Piedmont hazelnuts and no palm oil.", 750, "bag"),
        Item("Dark chocolate bar 72 %", "Single-origin cacao from Peru with red fruit notes, 100 g.", 450),
        Item("Milk chocolate bar with salted caramel", "Creamy milk chocolate with crunchy caramel and sea "
             "salt, 100 g.", 450),
        Item("White chocolate bar with raspberry", "White chocolate with freeze-dried raspberries, 100 g.",
             450),
        Item("Orangettes", "Candied orange peel dipped in dark chocolate, 150 g.", 890),
        Item("Mendiants", "Dark chocolate discs topped with almonds, pistachio and dried fruit.", 790),
        Item("Florentines", "Almond and honey caramel biscuits on a layer of dark chocolate.", 890),
        Item("Marzipan fruits", "Hand-painted almond marzipan in the shape of fruit.", 990),
        Item("Hollow chocolate Easter egg", "Dark chocolate egg filled with small pralines.", 1490,
             _axis("size", ("12 cm", 1.0), ("18 cm", 1.8))),
        Item("Saint Nicholas figure", "Solid milk chocolate Saint Nicholas, 150 g.", 890),
    ]),
    "boetiek-marie-lou": Catalogue("MLO", "Selected by Marie-Lou from small European ateliers.", 12, [
        Item("Linen shirt", "Washed European flax linen with mother-of-pearl buttons, relaxed fit.", 7995,
             _cs(("white", "sage"))),
        Item("Merino crew-neck jumper", "Fine extra-soft merino wool knitted in Italy.", 8995,
             _cs(("navy", "oatmeal"))),
        Item("Organic cotton T-shirt", "Heavy organic cotton jersey with a straight fit.", 2995,
             _cs(("ecru", "black"))),
        Item("Wide-leg trousers", "Fluid Tencel and linen blend with an elastic back waist.", 8995,
             _cs(("black", "camel"))),
        Item("Breton striped top", "Classic cotton sailor top made in Brittany.", 4995, _cs(("navy", "red"))),
        Item("Pleated midi skirt", "Recycled polyester satin that moves beautifully.", 6995,
             _cs(("olive", "rust"))),
        Item("Wool coat", "Double-breasted coat in boiled wool with a viscose lining.", 24900,
             _cs(("camel", "charcoal"))),
        Item("Wrap dress with floral print", "Viscose wrap dress with long sleeves and a tie belt.", 10995,
             "xs_xl"),
        Item("Denim jacket", "Rigid organic denim jacket that softens with wear.", 11995, "s_xl"),
        Item("Linen summer dress", "Sleeveless dress in washed linen with pockets.", 8995, "xs_xl"),
        Item("Cashmere scarf", "Soft Mongolian cashmere, 180 x 30 cm.", 8995, _colours("grey", "bordeaux",
             "camel")),
        Item("Knitted beanie", "Ribbed beanie in lambswool and alpaca.", 2995, _colours("mustard", "navy")),
        Item("Silver hoop earrings", "Hammered hoops handmade in a workshop in Antwerp.", 5900, "metal",
             "jewellery"),
        Item("Freshwater pearl necklace", "Single freshwater pearl on a fine 45 cm chain.", 6995, "metal",
             "jewellery"),
        Item("Stacking ring", "Thin sterling silver band with a brushed finish.", 3995, "ring", "jewellery"),
        Item("Signet ring", "Oval sterling silver signet ring, engraving on request.", 8995, "ring",
             "jewellery"),
        Item("Leather bracelet with silver clasp", "Braided vegetable-tanned leather with a silver magnetic "
             "clasp.", 3495, "single", "jewellery"),
    ]),
    "schoenen-de-stapper": Catalogue("STP", "Try them on in our shop on the Nederkouter.", 8, [
        Item("Leather Chelsea boots", "Cognac calf leather with elastic sides and a Goodyear-welted sole.",
             16995, _eu(37)),
        Item("Ankle boots with block heel", "Black nappa leather boots with a 5 cm heel and side zip.", 15995,
             _eu(36)),
        Item("Ballet flats", "Soft lambskin flats with a flexible leather sole.", 8995, _eu(36)),
        Item("Suede desert boots", "Sand suede boots with a natural crepe rubber sole.", 13995, _eu(40)),
        Item("Leather derby shoes", "Dark brown calf leather derbies that can be resoled.", 14995, _eu(40)),
        Item("White leather sneakers", "Minimal sneakers in full-grain leather, made in Portugal.", 11995,
             _eu(38)),
        Item("Canvas sneakers", "Organic cotton canvas with a natural rubber sole.", 5995, _eu(38)),
        Item("Waterproof walking shoes", "Leather and textile walking shoes with a breathable membrane.",
             12995, _eu(38)),
        Item("Cork footbed sandals", "Two-strap sandals in suede with a shaped cork and latex footbed.",
             8995, _eu(37)),
        Item("Children's first leather shoes", "Soft, flexible leather shoes for first steps.",
             6495, _eu(19)),
        Item("Children's rain boots", "Natural rubber wellies with a warm lining.", 2995, _eu(24)),
        Item("Felt slippers", "Boiled wool slippers with a suede sole.", 4495, "sml"),
        Item("Merino wool socks 2-pack", "Cushioned walking socks in merino wool.", 1695, "socks"),
        Item("Leather insoles", "Vegetable-tanned leather insoles that absorb moisture.", 1495, "socks"),
        Item("Shoe cream", "Beeswax-based shoe cream that nourishes and colours leather.", 895,
             _colours("neutral", "black", "brown", "cognac")),
        Item("Shoe care kit", "Horsehair brush, polishing cloth and neutral beeswax cream in a cotton bag.",
             2495),
    ]),
    "boekhandel-de-leesvink": Catalogue("LVK", "Available in our bookshop on the Walpoortstraat.", 15, [
        Item("Walking guide to Ghent", "Eighteen walks through Ghent with maps, history and cafe tips.",
             2295),
        Item("History of Ghent in 50 objects", "From the Ghent Altarpiece to the cotton mills, an "
             "illustrated city history.", 2995, "book"),
        Item("The Weaver's Daughter", "A novel set among the cotton mills of 19th-century Ghent.", 2250,
             "book"),
        Item("The Canal Detectives, part 3", "Belgian comic album: two kids solve a mystery on the Leie.",
             1295, "comic"),
        Item("Flemish home cooking", "Cookbook with stews, soups, waffles and fries, 120 recipes.", 3495,
             "single"),
        Item("Dutch for beginners workbook", "Exercises and audio for learning Dutch at A1 and A2 level.",
             2795),
        Item("Fox at the Korenmarkt", "Picture book for ages 3 to 6 about a fox exploring Ghent at night.",
             1695),
        Item("Field guide to birds of the Low Countries", "Compact bird guide with 400 species and "
             "illustrations.", 2995),
        Item("Cycling routes in East Flanders", "Twenty cycling loops along rivers, polders and the Flemish "
             "Ardennes.", 1995),
        Item("Summer on the Leie", "Young adult novel about friendship and first love in Ghent.",
             1795, "book"),
        Item("River poems", "Bilingual Dutch-English poetry collection about water and cities.", 1995),
        Item("Dotted A5 notebook", "Lay-flat notebook with 160 pages of 100 g paper.", 1495,
             _colours("black", "navy", "forest green", "bordeaux"), "stationery"),
        Item("Fountain pen", "Steel-nib fountain pen in lacquered aluminium.", 3295,
             _flat("nib", "F", "M"), "stationery"),
        Item("Fountain pen ink 50 ml", "Water-based ink in a glass bottle.", 1295, _colours("blue", "black",
             "green"), "stationery"),
        Item("Ghent postcards", "Set of 10 illustrated postcards of Ghent landmarks.", 995, "single",
             "stationery"),
        Item("Weekly planner 2027", "Week-on-two-pages planner with a linen cover.", 2195,
             _colours("black", "sage"), "stationery"),
        Item("Weekly planner 2026", "Week-on-two-pages planner with a linen cover.", 2195, "single",
             "stationery"),
    ]),
    "speelgoed-de-draaitol": Catalogue("DRT", "Tested for play value in our shop on the Brabantdam.", 20, [
        Item("Wooden stacking rainbow", "Arcs of beech wood painted with water-based colours.", 3495,
             _axis("size", ("small", 1.0), ("large", 1.6))),
        Item("Wooden train set", "Forty-piece beech wood railway with bridge and magnetic wagons.", 5995),
        Item("Wooden marble run", "Build-your-own marble run with 60 blocks and 20 glass marbles.", 4995),
        Item("Plush hedgehog", "Soft organic cotton hedgehog, washable at 30 degrees.", 2295,
             _axis("size", ("20 cm", 1.0), ("35 cm", 1.6))),
        Item("Canals of Ghent board game", "Family game for ages 8+ where you steer boats through Ghent.",
             3495),
        Item("Ghent skyline jigsaw puzzle", "1000-piece puzzle of the three towers of Ghent.", 2195),
        Item("Beech wood building blocks", "One hundred natural beech blocks in a cotton bag.", 4495),
        Item("Doll's house furniture set", "Wooden furniture for four rooms of a doll's house.", 3995),
        Item("Delta kite", "Ripstop nylon kite for beginners, with 30 m line.",
             2495, _colours("red", "blue")),
        Item("Birch balance bike", "Balance bike in birch plywood for ages 2 to 4.", 8995,
             _colours("natural", "red")),
        Item("Flemish proverbs card game", "Memory game with 36 pairs of Flemish proverbs.", 1295),
        Item("Spinning tops", "Set of three turned wooden spinning tops.", 995),
        Item("Watercolour paint set", "Twenty-four pans of student watercolour with a brush.", 2995, "single",
             "art-crafts"),
        Item("Beeswax crayons", "Twelve block crayons in natural beeswax.", 1295, "single", "art-crafts"),
        Item("Modelling clay", "Six colours of soft, non-drying modelling clay.",
             895, "single", "art-crafts"),
        Item("Sketchbook", "Spiral sketchbook with 120 g drawing paper.", 1195,
             _axis("size", ("A5", 1.0), ("A4", 1.4)), "art-crafts"),
        Item("Knitting kit for beginners", "Wooden needles, wool yarn and instructions for a scarf.", 3295,
             _colours("mustard", "teal"), "art-crafts"),
    ]),
    "bloemenatelier-de-lindeboom": Catalogue("LND", "Arranged by hand in our atelier in Ledeberg.", 15, [
        Item("Seasonal bouquet", "Hand-tied bouquet of the best seasonal flowers from Belgian growers.", 2995,
             "bouquet"),
        Item("White rose bouquet", "Long-stemmed white roses with eucalyptus.", 3495, "bouquet"),
        Item("Dried flower bouquet", "Pampas grass, lavender and strawflowers that last for months.", 3495,
             "bouquet"),
        Item("Tulip bunch", "Twenty tulips from a grower in the Meetjesland.", 1495),
        Item("Ghent azalea", "Flowering Ghent azalea in pot, the symbol of the Ghent Floralies.",
             1995, "pot"),
        Item("Monstera deliciosa", "Swiss cheese plant with large split leaves, easy to care for.", 2495,
             "pot_large"),
        Item("Olive tree", "Mediterranean olive tree for a sunny terrace.", 4995, "pot_large"),
        Item("Phalaenopsis orchid", "Moth orchid with two flowering stems.", 2295, _colours("white", "pink")),
        Item("Herb plant set", "Basil, thyme and rosemary in biodegradable pots.", 1295),
        Item("Succulent trio", "Three succulents in a zinc tray.", 1895),
        Item("Christmas wreath", "Door wreath of fresh pine, cones and dried orange.", 3995),
        Item("Hand-thrown ceramic vase", "Stoneware vase with a speckled glaze, made in Ghent.", 3995,
             _colours("sand", "moss"), "home-deco"),
        Item("Terracotta plant pot", "Frost-resistant terracotta pot with saucer.", 1295, "planters",
             "home-deco"),
        Item("Fig and cedar scented candle", "Soy wax candle with a cotton wick, 40 hours burning time.",
             2495, "single", "home-deco"),
        Item("Linen table runner", "Stonewashed linen runner, 150 x 45 cm.", 3495,
             _colours("natural", "terracotta"), "home-deco"),
        Item("Watering can", "Galvanised steel indoor watering can, 1.5 l.", 2995, "single", "home-deco"),
    ]),
    "fietsatelier-de-ketting": Catalogue("KTG", "Serviced and adjusted in our workshop in the Rabot.", 6, [
        Item("City bike 7 gears", "Steel city bike with hub gears, mudguards, rack and dynamo lights.", 69900,
             "frame"),
        Item("E-bike with mid motor", "Aluminium e-bike with a mid-mounted motor and 500 Wh battery.",
             269900, "frame"),
        Item("Gravel bike", "Steel gravel bike with disc brakes for towpaths and cobbles.", 149900, "frame"),
        Item("Two-wheel cargo bike", "Long-tail cargo bike with a box for two children and rain cover.",
             329900),
        Item("Folding bike", "Compact folding bike with 3 gears, fits on the train.", 89900),
        Item("Children's bike 16 inch", "Lightweight aluminium bike for ages 4 to 6.", 24900,
             _colours("red", "blue")),
        Item("Cycling helmet", "Urban helmet with MIPS liner and rear LED light.", 6995, "sml", "sports"),
        Item("Rain poncho", "Waterproof cycling poncho with thumb loops and reflective trim.", 3495,
             _flat("size", "S/M", "L/XL"), "sports"),
        Item("Cycling gloves", "Windproof gloves with touchscreen fingertips.", 2995, "s_xl", "sports"),
        Item("Insulated water bottle", "Stainless steel bottle of 750 ml that fits any bottle cage.", 2495,
             _colours("black", "mint", "coral"), "sports"),
        Item("Rechargeable bike light set", "USB-C front and rear lights, 40 and 15 lux.", 3995),
        Item("Folding lock", "Hardened steel folding lock with frame holder, security level 10.", 8995),
        Item("Waterproof pannier bag", "Roll-top pannier of 20 litres with a quick-release hook.", 7495,
             _colours("black", "olive")),
        Item("Inner tube", "Butyl inner tube with Dutch valve.", 895,
             _flat("size", "24 inch", "26 inch", "28 inch")),
        Item("Puncture repair kit", "Patches, glue, tyre levers and sandpaper in a tin.", 695),
        Item("Mini pump", "Aluminium hand pump with pressure gauge for all valve types.", 2495),
        Item("Chain oil", "Biodegradable chain lubricant for wet Ghent weather, 100 ml.", 995),
    ]),
    "groentepakket-het-moestuintje": Catalogue("MST", "Delivered by cargo bike around Ghent.", 60, [
        Item("Vegetable box", "Seasonal organic vegetables from farms around Ghent.", 1990, "box"),
        Item("Fruit box", "Apples, pears and seasonal fruit from Belgian orchards.", 1690, "box"),
        Item("Soup package", "Leek, celery, carrots, onion and parsley for a pot of soup.", 590),
        Item("Free-range eggs", "Eggs from hens with outdoor access in Lochristi.", 390, "eggs"),
        Item("Bintje potatoes", "Floury potatoes, ideal for Belgian fries and mash.", 350, "kg"),
        Item("Belgian endive", "Crisp white chicory grown in the dark, mildly bitter.", 450, "half_kilo"),
        Item("Organic carrots", "Sweet carrots from sandy soil in the Waasland.", 290, "kg"),
        Item("Jonagold apples", "Crunchy sweet-sour apples from Haspengouw orchards.", 390, "kg"),
        Item("Conference pears", "Juicy Belgian pears, ripe within a few days.", 420, "kg"),
        Item("Strawberries", "Sweet greenhouse strawberries, 500 g.", 590),
        Item("Salad mix", "Mixed leaves and herbs, washed and ready to eat, 150 g.", 290),
        Item("Farm milk", "Whole raw milk from a dairy farm in Merelbeke, 1 litre.", 190),
        Item("Farm yoghurt", "Natural whole milk yoghurt, creamy and mild.", 320,
             _axis("size", ("500 ml", 1.0), ("1 l", 1.8))),
        Item("Cloudy apple juice", "Pressed from Belgian apples, no added sugar.", 350, "litre"),
        Item("Rooftop honey", "Wildflower honey from hives on Ghent rooftops.", 890, "bag"),
        Item("Cold-pressed rapeseed oil", "Belgian rapeseed oil with a nutty flavour, 500 ml.", 790),
    ]),
    "dierenspeciaalzaak-snuffel": Catalogue("SNF", "Advice included at our shop near Dampoort station.", 25, [
        Item("Grain-free dog food with duck", "Dry food with duck and sweet potato for adult dogs.", 1895,
             "pet_food"),
        Item("Senior dog food with lamb", "Easily digestible dry food with lamb and rice for older dogs.",
             1795, "pet_food"),
        Item("Dry cat food with salmon", "Complete food for adult cats with Norwegian salmon.", 1295,
             "pet_food"),
        Item("Wet cat food pouches", "Twelve 85 g pouches of chicken and fish in jelly.", 995),
        Item("Padded dog harness", "Y-shaped harness with reflective stitching.", 3495, "xs_xl"),
        Item("Leather dog collar", "Vegetable-tanned leather collar with brass buckle.", 2495, "sml"),
        Item("Dog lead 2 m", "Braided rope lead with a brass clip.", 2295, _colours("navy", "orange")),
        Item("Orthopaedic dog bed", "Memory foam bed with a washable cover.", 6995,
             _flat("size", "M", "L", "XL")),
        Item("Dental chews for dogs", "Vegetable chews that help keep teeth clean, 7 pieces.", 695, "sml"),
        Item("Rope toy", "Cotton rope toy for tugging and chewing.", 895),
        Item("Cat scratching post", "Sisal scratching post with platform, 80 cm.", 4995),
        Item("Clumping cat litter", "Bentonite clay litter, 10 litres.", 1295),
        Item("Wild bird seed mix", "Sunflower seeds, peanuts and grains for garden birds.", 895, "kg"),
        Item("Meadow hay for rabbits", "Soft first-cut meadow hay from Belgian fields.", 595, "kg"),
        Item("Aquarium fish flakes", "Complete flake food for tropical fish, 250 ml.", 695),
        Item("Poop bags", "Compostable poop bags, 120 pieces on 8 rolls.", 595),
    ]),
}

# fmt: on

# Seasonal or discontinued products: created with "active": false.
RETIRED: frozenset[tuple[str, str]] = frozenset(
    {
        ("bakkerij-de-graanzolder", "Christmas stollen"),
        ("slagerij-vandenbroucke", "Barbecue package"),
        ("kaashandel-het-melkmeisje", "Raclette cheese"),
        ("chocolaterie-pralinette", "Hollow chocolate Easter egg"),
        ("chocolaterie-pralinette", "Saint Nicholas figure"),
        ("boetiek-marie-lou", "Linen summer dress"),
        ("boekhandel-de-leesvink", "Weekly planner 2026"),
        ("bloemenatelier-de-lindeboom", "Christmas wreath"),
    }
)

# --------------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------------


def vat_rate_bps(category: str) -> int:
    """Belgian VAT rate in basis points for a product category."""
    return VAT_REDUCED_BPS if category in REDUCED_VAT_CATEGORIES else VAT_STANDARD_BPS


def _price(base_cents: int, multiplier: float, category: str) -> int:
    """Realistic shelf price: food rounded to 10 cents, other goods ending in .95/.45 or .00."""
    cents = base_cents * multiplier
    if category in _EDIBLE_CATEGORIES:
        return max(10, round(cents / 10) * 10)
    if cents >= 20000:
        return round(cents / 1000) * 1000 - 100
    if cents >= 1000:
        return round(cents / 100) * 100 - 5
    return max(45, round(cents / 50) * 50 - 5)


def _sku_code(name: str) -> str:
    """First four ASCII letters/digits of the first word of a product name, upper case."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    first_word = "".join(ch for ch in ascii_name.split()[0] if ch.isalnum())
    return first_word[:4].upper() or "ITEM"


def _stock(sku: str, max_stock: int) -> int:
    """Deterministic stock level derived from the SKU; roughly one variant in eleven is sold out."""
    digest = zlib.crc32(sku.encode("ascii"))
    if digest % 11 == 0:
        return 0
    return 1 + (digest >> 4) % max_stock


def _product(
    shop_key: str, catalogue: Catalogue, index: int, item: Item, default_category: str
) -> dict[str, Any]:
    category = item.category or default_category
    variant_specs = VARIANT_SETS[item.variants] if isinstance(item.variants, str) else item.variants
    variants = []
    for number, (options, multiplier) in enumerate(variant_specs, start=1):
        sku = f"{catalogue.prefix}-{_sku_code(item.name)}{index:02d}-{number:02d}"
        variants.append(
            {
                "sku": sku,
                "options": dict(options),
                "price_cents": _price(item.price, multiplier, category),
                "stock": _stock(sku, catalogue.max_stock),
                "active": True,
            }
        )
    return {
        "name": item.name,
        "description": f"{item.desc} {catalogue.tagline}",
        "category": category,
        "vat_rate_bps": vat_rate_bps(category),
        "active": (shop_key, item.name) not in RETIRED,
        "variants": variants,
    }


def demo_shops() -> list[dict[str, Any]]:
    """Bodies of the operator's "create shop" calls, each with an extra stable "key" field."""
    return copy.deepcopy(list(_SHOPS))


def demo_products(shop_key: str) -> list[dict[str, Any]]:
    """Bodies of the retailer's "create product" calls for one demo shop (KeyError for unknown keys)."""
    shop = next((s for s in _SHOPS if s["key"] == shop_key), None)
    if shop is None:
        raise KeyError(f"unknown demo shop key: {shop_key!r}")
    catalogue = _CATALOGUES[shop_key]
    default_category = shop["categories"][0]
    return [
        _product(shop_key, catalogue, index, item, default_category)
        for index, item in enumerate(catalogue.items, start=1)
    ]
