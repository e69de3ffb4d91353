from __future__ import annotations

import msgspec
from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute

from chalicelib.core.db import MallItem
from chalicelib.shop.schemas import ShopProfile

ACTIVE = "active"
SUSPENDED = "suspended"


class ShopItem(MallItem, discriminator="shop"):
    """pk = SHOP#<id>, sk = PROFILE.

    gsi1: SHOPS#<status> / <name key>#<id>      every shop by status, by name (storefront + operator lists)
    gsi2: GEO#<geohash-3> / <geohash-9>#<id>    active shops only, for "near me"
    """

    shop_id = UnicodeAttribute()
    status = UnicodeAttribute()
    # Top-level copy of profile.categories so a list can filter with contains().
    categories = ListAttribute(of=UnicodeAttribute)
    geohash = UnicodeAttribute()
    # The profile is one msgspec-encoded document: decoded straight into the typed struct.
    profile_json = UnicodeAttribute()
    key_digest = UnicodeAttribute()
    key_prefix = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # Incremented in the shop's own write by every change its products carry (status, name, terms): the
    # relist worker brings each product to it (chalicelib/catalog/relisting.py).
    listing_version = NumberAttribute(default=0)
    version = VersionAttribute()

    @staticmethod
    def key_for(shop_id: str) -> tuple[str, str]:
        return f"SHOP#{shop_id}", "PROFILE"

    @property
    def profile(self) -> ShopProfile:
        return msgspec.json.decode(self.profile_json, type=ShopProfile)

    @property
    def active(self) -> bool:
        return self.status == ACTIVE
