"""What a storefront page needs from the catalogue in one call: the categories with their names, product
lists that carry a cover image and an in-stock flag, and a search that finds words by their beginning."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.catalog.taxonomy import CATEGORIES


def test_categories_are_named_in_three_languages_and_cacheable(api: Any) -> None:
    response = api.http.get("/categories")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    items = json.loads(response.body)["items"]
    assert [c["slug"] for c in items] == list(CATEGORIES)
    bakery = items[0]
    assert bakery == {"slug": "bakery", "names": {"fr": "Boulangerie", "nl": "Bakkerij", "en": "Bakery"}}
    assert all(c["names"]["fr"] and c["names"]["nl"] and c["names"]["en"] for c in items)
