from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from chalicelib.core.db import MallItem


class ApiKeyItem(MallItem, discriminator="api_key"):
    """pk = APIKEY#<sha256 of the key>, sk = APIKEY."""

    role = UnicodeAttribute()
    shop_id = UnicodeAttribute(null=True)
    # Copied from the shop on suspension so that authentication stays one GetItem.
    shop_active = BooleanAttribute(default=True)
    display_prefix = UnicodeAttribute()
    created_at = UnicodeAttribute()

    @staticmethod
    def key_for(digest: str) -> tuple[str, str]:
        return f"APIKEY#{digest}", "APIKEY"
