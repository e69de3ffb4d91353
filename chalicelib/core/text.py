"""Text folding shared by sort keys and word search: case- and accent-insensitive ("Café" == "cafe")."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def sort_key(name: str) -> str:
    """A stable, bounded sort key for names in index sort keys."""
    return _NON_WORD.sub(" ", fold(name)).strip()[:80] or "-"


def words(text: str) -> list[str]:
    return [w for w in _NON_WORD.split(fold(text)) if w]
