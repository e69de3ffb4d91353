"""Shops: opening by the operator, profile by the retailer, browsing by storefronts."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

import msgspec
from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib.auth.keys import IssuedKey, Role
from chalicelib.auth.models import ApiKeyItem
from chalicelib.auth.service import Principal, new_key_item
from chalicelib.catalog import listing, relisting
from chalicelib.catalog.taxonomy import is_category
from chalicelib.core.clock import iso, now
from chalicelib.core.db import query_page, transaction
from chalicelib.core.errors import FieldProblem, InvalidInput
from chalicelib.core.ids import new_id
from chalicelib.core.text import sort_key
from chalicelib.shop import geo, hours
from chalicelib.shop.errors import ShopChangedConcurrently, ShopNotFound
from chalicelib.shop.models import ACTIVE, SUSPENDED, ShopItem
from chalicelib.shop.schemas import (
    CreatedShop,
    NearbyQuery,
    OperatorShopListQuery,
    RetailerShop,
    RetailerShopPage,
    RotatedKey,
    Shop,
    ShopListQuery,
    ShopPage,
    ShopProfile,
    ShopProfileUpdate,
    profile_fields,
)

# Near-me reads every active shop in the cells the circle touches; a mall is a city, so this stays small,
# but it is bounded so a dense region cannot turn one request into an unbounded read.
MAX_NEARBY_CANDIDATES = 500
# At 50 km a circle touches at most 4 precision-3 cells below about 50° of latitude and 6 up to about 70°.
MAX_NEARBY_CELLS = 6


# --- operator ---------------------------------------------------------------------------------------


def open_shop(profile: ShopProfile) -> CreatedShop:
    _check_profile(profile)
    shop_id = new_id("shop")
    issued, key_item = _new_shop_key(shop_id)
    stamp = iso(now())
    item = ShopItem(
        *ShopItem.key_for(shop_id),
        shop_id=shop_id,
        status=ACTIVE,
        key_digest=issued.digest,
        key_prefix=issued.display_prefix,
        created_at=stamp,
        updated_at=stamp,
    )
    _apply_profile(item, profile)
    with transaction() as tx:
        tx.save(item, condition=ShopItem.pk.does_not_exist())
        tx.save(key_item, condition=ApiKeyItem.pk.does_not_exist())
    return CreatedShop(shop=_retailer_view(item), api_key=issued.plaintext)


def operator_list_shops(query: OperatorShopListQuery) -> RetailerShopPage:
    items, cursor = query_page(
        ShopItem, f"SHOPS#{query.status}", index="gsi1", limit=query.limit, cursor=query.cursor
    )
    return RetailerShopPage([_retailer_view(i) for i in items], cursor)


def operator_get_shop(shop_id: str) -> RetailerShop:
    return _retailer_view(_load(shop_id))


# A conflicting write (the other of a suspension and a key rotation, a profile edit) makes these operator
# actions read the shop again and retry rather than fail: each is one transaction conditional on the
# shop's version, so a retry never applies a stale read.
_OPERATOR_ATTEMPTS = 3


def rotate_key(shop_id: str) -> RotatedKey:
    for _ in range(_OPERATOR_ATTEMPTS):
        # Consistent: the new key copies the shop's current status, and the old digest must be current.
        shop = _load(shop_id, consistent=True)
        issued, key_item = _new_shop_key(shop_id, active=shop.active)
        try:
            with transaction() as tx:
                tx.delete(ApiKeyItem(*ApiKeyItem.key_for(shop.key_digest)))
                tx.save(key_item, condition=ApiKeyItem.pk.does_not_exist())
                # Conditional on the version read (PynamoDB adds it): a suspension in between makes us
                # read again, so the new key never carries a status the shop no longer has.
                tx.update(
                    shop,
                    actions=[
                        ShopItem.key_digest.set(issued.digest),
                        ShopItem.key_prefix.set(issued.display_prefix),
                        ShopItem.updated_at.set(iso(now())),
                    ],
                    condition=ShopItem.key_digest == shop.key_digest,
                )
        except TransactWriteError:
            continue
        return RotatedKey(api_key=issued.plaintext, api_key_prefix=issued.display_prefix)
    raise ShopChangedConcurrently(shop_id)


def set_shop_status(shop_id: str, active: bool, send: relisting.Sender | None = None) -> RetailerShop:
    """Suspension hides the shop at once and makes its key follow the suspension rule (chalicelib/auth/
    suspension.py); its products are relisted off the request, and storefront reads leave out the
    products of a shop that is not active until then."""
    status = ACTIVE if active else SUSPENDED
    for _ in range(_OPERATOR_ATTEMPTS):
        shop = _load(shop_id, consistent=True)
        if shop.status == status:
            # Nothing to record; queue the relisting again anyway (it is idempotent), so repeating the
            # call recovers a change whose message was lost.
            relisting.request_relisting(shop_id, int(shop.listing_version), send)
            return _retailer_view(shop)
        shop.status = status
        shop.listing_version = int(shop.listing_version) + 1
        _index_keys(shop)
        shop.updated_at = iso(now())
        try:
            with transaction() as tx:
                tx.save(shop)  # conditional on the version read: a rotation in between makes us retry
                # By key, not read first: the key item of the digest we read. A rotation that replaced
                # it fails this condition (and the shop's version), and the next attempt reads the new one.
                tx.update(
                    ApiKeyItem(*ApiKeyItem.key_for(shop.key_digest)),
                    actions=[ApiKeyItem.shop_active.set(active)],
                    condition=ApiKeyItem.pk.exists(),
                )
        except TransactWriteError:
            continue
        relisting.request_relisting(shop_id, int(shop.listing_version), send)
        return _retailer_view(shop)
    raise ShopChangedConcurrently(shop_id)


def _new_shop_key(shop_id: str, active: bool = True) -> tuple[IssuedKey, ApiKeyItem]:
    issued, item = new_key_item(Role.RETAILER, shop_id)
    item.shop_active = active
    return issued, item


# --- retailer ---------------------------------------------------------------------------------------


def retailer_get_shop(principal: Principal) -> RetailerShop:
    assert principal.shop_id is not None
    return _retailer_view(_load(principal.shop_id, consistent=True))


def update_profile(principal: Principal, update: ShopProfileUpdate) -> RetailerShop:
    shop_id = principal.require_writable_shop()
    shop = _load(shop_id, consistent=True)
    profile = msgspec.structs.replace(shop.profile, **profile_fields(update))
    _check_profile(profile)
    # Products carry the shop's name and terms (catalog.listing.shop_terms_of: fulfilment, address, hours,
    # closed dates and zone, from which carts compute pickup slots): only a change to those is relisted.
    terms_before = listing.shop_terms_of(shop)
    _apply_profile(shop, profile)
    relist = listing.shop_terms_of(shop) != terms_before
    if relist:
        shop.listing_version = int(shop.listing_version) + 1
    shop.updated_at = iso(now())
    try:
        shop.save()  # VersionAttribute makes this conditional on the version we read
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise ShopChangedConcurrently(shop_id) from None
        raise
    if relist:
        relisting.request_relisting(shop_id, int(shop.listing_version))
    return _retailer_view(shop)


# --- storefront -------------------------------------------------------------------------------------


def get_shop(shop_id: str) -> Shop:
    shop = _load(shop_id)
    if not shop.active:
        raise ShopNotFound(shop_id)
    return public_view(shop, now())


def list_shops(query: ShopListQuery) -> ShopPage:
    _check_category_filter(query.category)
    condition = ShopItem.categories.contains(query.category) if query.category else None
    items, cursor = query_page(
        ShopItem,
        f"SHOPS#{ACTIVE}",
        index="gsi1",
        filter_condition=condition,
        limit=query.limit,
        cursor=query.cursor,
        max_calls=2,
    )
    moment = now()
    return ShopPage([public_view(i, moment) for i in items], cursor)


def shops_near(query: NearbyQuery) -> ShopPage:
    _check_category_filter(query.category)
    offset = _decode_offset(query.cursor)
    cells = geo.cell_ranges(query.lat, query.lng, query.radius_km)
    if len(cells) > MAX_NEARBY_CELLS:
        # Near the poles geohash cells shrink to slivers: one public request must not become hundreds
        # of Queries. A mall is a city; no real one is there.
        raise InvalidInput.single(
            "radius_km", "covers too large an area at this latitude; use a smaller radius"
        )
    found: list[tuple[float, ShopItem]] = []
    for cell in cells:
        condition = ShopItem.gsi2sk.between(cell.low, cell.high)
        for item in ShopItem.gsi2.query(f"GEO#{cell.cell}", condition, limit=MAX_NEARBY_CANDIDATES):
            profile = item.profile
            if query.category and query.category not in item.categories:
                continue
            distance = geo.distance_km(query.lat, query.lng, profile.location.lat, profile.location.lng)
            if distance <= query.radius_km:
                found.append((distance, item))
    found.sort(key=lambda pair: (pair[0], pair[1].shop_id))
    page = found[offset : offset + query.limit]
    moment = now()
    shops = [msgspec.structs.replace(public_view(i, moment), distance_km=round(d, 3)) for d, i in page]
    more = offset + query.limit < len(found)
    return ShopPage(shops, _encode_offset(offset + query.limit) if more else None)


def public_view(item: ShopItem, moment: datetime) -> Shop:
    p = item.profile
    week = msgspec.structs.asdict(p.opening_hours)
    open_now = hours.is_open(week, p.closed_dates, p.timezone, moment)
    upcoming = None if open_now else hours.next_opening(week, p.closed_dates, p.timezone, moment)
    return Shop(
        id=item.shop_id,
        name=p.name,
        description=p.description,
        categories=p.categories,
        address=p.address,
        location=p.location,
        timezone=p.timezone,
        phone=p.phone,
        email=p.email,
        opening_hours=p.opening_hours,
        closed_dates=p.closed_dates,
        pickup=p.pickup,
        delivery=p.delivery,
        open_now=open_now,
        next_opening=iso(upcoming) if upcoming else None,
    )


def load_active_shop(shop_id: str) -> ShopItem:
    shop = _load(shop_id)
    if not shop.active:
        raise ShopNotFound(shop_id)
    return shop


# --- helpers ----------------------------------------------------------------------------------------


def _retailer_view(item: ShopItem) -> RetailerShop:
    return RetailerShop(
        id=item.shop_id,
        status=item.status,
        profile=item.profile,
        api_key_prefix=item.key_prefix,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _load(shop_id: str, consistent: bool = False) -> ShopItem:
    try:
        return ShopItem.get(*ShopItem.key_for(shop_id), consistent_read=consistent)
    except ShopItem.DoesNotExist:
        raise ShopNotFound(shop_id) from None


def _apply_profile(item: ShopItem, profile: ShopProfile) -> None:
    item.profile_json = msgspec.json.encode(profile).decode()
    item.categories = list(profile.categories)
    item.geohash = geo.encode(profile.location.lat, profile.location.lng, 9)
    _index_keys(item)


def _index_keys(item: ShopItem) -> None:
    profile = item.profile
    item.gsi1pk = f"SHOPS#{item.status}"
    item.gsi1sk = f"{sort_key(profile.name)}#{item.shop_id}"
    if item.active:
        item.gsi2pk = f"GEO#{item.geohash[:3]}"
        item.gsi2sk = f"{item.geohash}#{item.shop_id}"
    else:
        item.gsi2pk = item.gsi2sk = None


def _check_profile(profile: ShopProfile) -> None:
    problems = [
        FieldProblem(f"categories[{i}]", "is not a category of the mall")
        for i, slug in enumerate(profile.categories)
        if not is_category(slug)
    ]
    if len(set(profile.categories)) != len(profile.categories):
        problems.append(FieldProblem("categories", "must not repeat a category"))
    if not hours.is_valid_timezone(profile.timezone):
        problems.append(FieldProblem("timezone", "is not a known IANA time zone"))
    week = msgspec.structs.asdict(profile.opening_hours)
    problems += [FieldProblem(path, msg) for path, msg in hours.hours_problems(week)]
    problems += [FieldProblem(path, msg) for path, msg in hours.closed_dates_problems(profile.closed_dates)]
    if profile.delivery.enabled and profile.delivery.radius_km <= 0:
        problems.append(FieldProblem("delivery.radius_km", "must be above 0 when delivery is enabled"))
    if not (profile.pickup.enabled or profile.delivery.enabled):
        problems.append(FieldProblem("pickup.enabled", "a shop offers pickup, delivery or both"))
    if problems:
        raise InvalidInput(problems)


def _check_category_filter(category: str | None) -> None:
    # A typo'd slug would otherwise answer an empty list, indistinguishable from "no such shops".
    if category is not None and not is_category(category):
        raise InvalidInput.single("category", "is not a category of the mall")


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode_offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["o"]
    except (binascii.Error, ValueError, KeyError, TypeError, RecursionError):  # RecursionError: '[[[...'
        value = None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_NEARBY_CANDIDATES:
        raise InvalidInput.single("cursor", "is not a valid cursor for this list")
    return value
