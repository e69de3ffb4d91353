from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.core.db import MallItem

PENDING = "pending"
READY = "ready"
FAILED = "failed"


class ImageItem(MallItem, discriminator="image"):
    """pk = PRODUCT#<product id>, sk = IMAGE#<slot 00..09>: in the product's partition, so the product read
    (one Query) returns its images too.

    The sort key is a *slot*, not the image id: claiming a slot is a conditional Put, which caps a
    product's images without a counter that concurrent uploads would race on. A slot is free when it is
    empty, holds a failed upload, or holds a pending upload whose `expires_at` has passed (the client
    never uploaded; DynamoDB's TTL removes such items later, reads ignore them until then).
    The image id names the S3 objects (uploads/..., public/...), so a reused slot never reuses a URL.
    """

    image_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    shop_id = UnicodeAttribute()
    status = UnicodeAttribute()  # pending -> ready | failed, each change conditional on the previous
    position = NumberAttribute()  # the retailer's order; the lowest is the cover
    alt = UnicodeAttribute(default="")
    content_type = UnicodeAttribute()  # as announced by the retailer; processing trusts the bytes only
    declared_bytes = NumberAttribute()
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    renditions = JSONAttribute(null=True)  # [[box, width, height], ...] smallest first
    failure_code = UnicodeAttribute(null=True)
    failure_message = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # epoch seconds (table TTL); removed once the image is ready
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    @staticmethod
    def key_for(product_id: str, slot: int) -> tuple[str, str]:
        return f"PRODUCT#{product_id}", f"IMAGE#{slot:02d}"

    @property
    def slot(self) -> int:
        return int(self.sk.removeprefix("IMAGE#"))

    def is_live(self, epoch: int) -> bool:
        """Counts against the limit and is shown to its retailer: ready, or pending and not expired."""
        if self.status == READY:
            return True
        return self.status == PENDING and (self.expires_at is None or int(self.expires_at) > epoch)
