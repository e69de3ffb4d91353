"""The mall's categories: one list for shops and products, so storefronts can browse both by the same
slugs. Adding a category is a code change on purpose (it shows in navigation)."""

from __future__ import annotations

CATEGORIES: tuple[str, ...] = (
    "bakery",
    "butcher",
    "cheese-deli",
    "grocery",
    "wine-spirits",
    "coffee-tea",
    "chocolate-sweets",
    "fashion",
    "shoes",
    "jewellery",
    "books",
    "toys",
    "home-deco",
    "kitchenware",
    "flowers-plants",
    "health-beauty",
    "sports",
    "electronics",
    "bikes",
    "pets",
    "stationery",
    "music",
    "art-crafts",
)
_KNOWN = frozenset(CATEGORIES)

# Display names, in the mall's three languages (a Belgian mall): storefronts show these, never the slug.
NAMES: dict[str, tuple[str, str, str]] = {  # slug: (fr, nl, en)
    "bakery": ("Boulangerie", "Bakkerij", "Bakery"),
    "butcher": ("Boucherie", "Slagerij", "Butcher"),
    "cheese-deli": ("Fromagerie et traiteur", "Kaas en delicatessen", "Cheese and deli"),
    "grocery": ("Épicerie", "Kruidenierszaak", "Grocery"),
    "wine-spirits": ("Vins et spiritueux", "Wijn en sterkedrank", "Wine and spirits"),
    "coffee-tea": ("Café et thé", "Koffie en thee", "Coffee and tea"),
    "chocolate-sweets": ("Chocolat et confiserie", "Chocolade en snoep", "Chocolate and sweets"),
    "fashion": ("Mode", "Mode", "Fashion"),
    "shoes": ("Chaussures", "Schoenen", "Shoes"),
    "jewellery": ("Bijouterie", "Juwelen", "Jewellery"),
    "books": ("Livres", "Boeken", "Books"),
    "toys": ("Jouets", "Speelgoed", "Toys"),
    "home-deco": ("Maison et déco", "Wonen en deco", "Home and decoration"),
    "kitchenware": ("Articles de cuisine", "Keukengerei", "Kitchenware"),
    "flowers-plants": ("Fleurs et plantes", "Bloemen en planten", "Flowers and plants"),
    "health-beauty": ("Santé et beauté", "Gezondheid en verzorging", "Health and beauty"),
    "sports": ("Sport", "Sport", "Sports"),
    "electronics": ("Électronique", "Elektronica", "Electronics"),
    "bikes": ("Vélos", "Fietsen", "Bikes"),
    "pets": ("Animaux", "Dieren", "Pets"),
    "stationery": ("Papeterie", "Papierwaren", "Stationery"),
    "music": ("Musique", "Muziek", "Music"),
    "art-crafts": ("Art et bricolage", "Kunst en hobby", "Art and crafts"),
}


def is_category(slug: str) -> bool:
    return slug in _KNOWN
