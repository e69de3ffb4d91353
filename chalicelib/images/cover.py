"""The cover a product grid shows: the 200 px rendition of the product's first ready image, copied onto the
product and its search entries (the listing items) whenever it changes, so a storefront list carries it
without a read per product.

Called after an image becomes ready (the processing Lambda), is reordered or deleted. Every write is an
UpdateItem (in one transaction, at most 31 items: the product and its search entries), the only write the
image function's role grants.
"""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from chalicelib.catalog.errors import lost_a_race
from chalicelib.catalog.listing import entry_keys_of
from chalicelib.catalog.models import ProductItem, SearchEntry
from chalicelib.core.db import transaction
from chalicelib.core.log import logger
from chalicelib.images import storage
from chalicelib.images.models import READY, ImageItem
from chalicelib.images.service import product_and_images

_ATTEMPTS = 3


def cover_key_of(images: list[ImageItem]) -> str | None:
    """The smallest rendition of the first ready image in the retailer's order (as images_view sorts)."""
    ready = [i for i in images if i.status == READY and i.renditions]
    if not ready:
        return None
    first = min(ready, key=lambda i: (int(i.position), i.created_at, i.image_id))
    box = int(first.renditions[0][0])
    return storage.rendition_key(first.shop_id, first.product_id, first.image_id, box)


def refresh_cover(product_id: str, known: tuple[ProductItem | None, list[ImageItem]] | None = None) -> None:
    """Writes the cover onto the product and its search entries if it changed. `known`: the product and
    its images as the caller has them now (saves the first read). The product's version guards against a
    concurrent product edit, which rewrites the entries: the loser reads again."""
    for _ in range(_ATTEMPTS):
        product, images = known if known is not None else product_and_images(product_id)
        known = None
        if product is None:
            return
        cover = cover_key_of(images)
        if product.cover_key == cover:
            return
        try:
            with transaction() as tx:
                tx.update(
                    product,
                    actions=[ProductItem.cover_key.set(cover) if cover else ProductItem.cover_key.remove()],
                )
                for pk, sk in sorted(entry_keys_of(product)):
                    action = SearchEntry.cover_key.set(cover) if cover else SearchEntry.cover_key.remove()
                    tx.update(SearchEntry(pk, sk), actions=[action], condition=SearchEntry.pk.exists())
            return
        except TransactWriteError as error:
            if not lost_a_race(error):
                raise
    logger.warning("product cover not refreshed: it kept changing", extra={"product_id": product_id})
