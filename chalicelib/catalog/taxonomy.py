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


def is_category(slug: str) -> bool:
    return slug in _KNOWN
