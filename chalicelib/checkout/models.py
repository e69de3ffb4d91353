from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute

from chalicelib.core.db import MallItem

OPEN = "open"
CHECKED_OUT = "checked_out"


class CartItem(MallItem, discriminator="cart"):
    """pk = CART#<id>, sk = CART. Holds what the customer chose, never prices: those are read from the
    catalogue every time the cart is shown or checked out. Expires (TTL) 30 days after its last change."""

    cart_id = UnicodeAttribute()
    token_digest = UnicodeAttribute()
    status = UnicodeAttribute(default=OPEN)
    # [{"variant_id": str, "quantity": int}] in the order the customer added them
    lines = JSONAttribute(default=list)
    # {shop_id: {"method": "pickup"|"delivery", "address": {...}|None, "contact": {...}|None}}
    fulfilment = JSONAttribute(default=dict)
    # Set by the checkout that consumed the cart; a retry with the same key replays it.
    checkout_key = UnicodeAttribute(null=True)
    checkout_fingerprint = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    expires_at = NumberAttribute()
    version = VersionAttribute()

    @staticmethod
    def key_for(cart_id: str) -> tuple[str, str]:
        return f"CART#{cart_id}", "CART"


class CheckoutKey(MallItem, discriminator="checkout_key"):
    """pk = IDEMPOTENCY#<Idempotency-Key>, sk = CHECKOUT: claims a key for one cart, mall-wide, in the
    checkout transaction, so the same key sent with another cart is refused. Kept 7 days (TTL)."""

    cart_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    expires_at = NumberAttribute()

    @staticmethod
    def key_for(idempotency_key: str) -> tuple[str, str]:
        return f"IDEMPOTENCY#{idempotency_key}", "CHECKOUT"
