"""Shapes of shop data on the wire (requests and responses). msgspec structs double as the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from chalicelib.core.types import (
    Cents,
    Cursor,
    HourMinute,
    Id,
    IsoDate,
    Latitude,
    Limit,
    Longitude,
    Name,
    ShortText,
    Slug,
)
from chalicelib.core.validation import text

Interval = tuple[HourMinute, HourMinute]
DayHours = Annotated[list[Interval], Meta(max_length=4, description="[opens, closes] pairs, sorted")]


class Address(Struct, forbid_unknown_fields=True):
    street: Annotated[str, text(min_length=1, max_length=200)]
    postal_code: Annotated[str, Meta(pattern=r"^[0-9A-Za-z -]{2,12}$")]
    city: Annotated[str, text(min_length=1, max_length=100)]
    country: Annotated[str, Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]


class Location(Struct, forbid_unknown_fields=True):
    lat: Latitude
    lng: Longitude


class OpeningHours(Struct, forbid_unknown_fields=True):
    """Local wall-clock hours per weekday in the shop's time zone; an empty day is closed."""

    mon: DayHours = []
    tue: DayHours = []
    wed: DayHours = []
    thu: DayHours = []
    fri: DayHours = []
    sat: DayHours = []
    sun: DayHours = []


class SlotConfig(Struct, forbid_unknown_fields=True):
    """Pickup by booked slot (chalicelib/shop/slots.py): opening hours cut into slots of a fixed length."""

    length_minutes: Annotated[int, Meta(ge=15, le=240)]
    capacity: Annotated[int, Meta(ge=1, le=100, description="Orders one slot can take")]
    preparation_minutes: Annotated[int, Meta(ge=0, le=10080, description="Earliest slot is now + this")] = 0


class Pickup(Struct, forbid_unknown_fields=True):
    enabled: bool
    ready_within_hours: Annotated[int, Meta(ge=0, le=336)] = 2
    instructions: ShortText = ""
    # Days a ready order waits at the counter before the no-show job cancels and refunds it.
    no_show_days: Annotated[int, Meta(ge=0, le=30)] = 3
    # UNSET (left out of the JSON) rather than null, so shops without slots look exactly as before.
    slots: SlotConfig | UnsetType | None = UNSET


class Delivery(Struct, forbid_unknown_fields=True):
    enabled: bool
    radius_km: Annotated[float, Meta(ge=0, le=50)] = 0.0
    fee_cents: Cents = 0
    free_over_cents: Cents | None = None


Email = Annotated[str, Meta(pattern=r"^[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,24}$", max_length=254)]
Phone = Annotated[str, Meta(pattern=r"^\+?[0-9 ()/.-]{6,24}$")]
Categories = Annotated[list[Slug], Meta(min_length=1, max_length=5)]
ClosedDates = Annotated[list[IsoDate], Meta(max_length=366)]
TimeZone = Annotated[str, Meta(min_length=1, max_length=64, description="IANA zone, e.g. Europe/Brussels")]


class ShopProfile(Struct, forbid_unknown_fields=True):
    """What the operator sends to open a shop, and what the shop stores as its profile."""

    name: Name
    categories: Categories
    address: Address
    location: Location
    opening_hours: OpeningHours
    pickup: Pickup
    delivery: Delivery
    timezone: TimeZone = "Europe/Brussels"
    description: Annotated[str, text(max_length=2000, multiline=True)] = ""
    phone: Phone | None = None
    email: Email | None = None
    closed_dates: ClosedDates = []


class ShopProfileUpdate(Struct, forbid_unknown_fields=True):
    """A retailer's partial update: only the fields sent change."""

    name: Name | UnsetType = UNSET
    categories: Categories | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    location: Location | UnsetType = UNSET
    opening_hours: OpeningHours | UnsetType = UNSET
    pickup: Pickup | UnsetType = UNSET
    delivery: Delivery | UnsetType = UNSET
    timezone: TimeZone | UnsetType = UNSET
    description: Annotated[str, text(max_length=2000, multiline=True)] | UnsetType = UNSET
    phone: Phone | UnsetType | None = UNSET
    email: Email | UnsetType | None = UNSET
    closed_dates: ClosedDates | UnsetType = UNSET


class Shop(Struct):
    """A shop as storefronts see it."""

    id: Id
    name: str
    description: str
    categories: list[str]
    address: Address
    location: Location
    timezone: str
    phone: str | None
    email: str | None
    opening_hours: OpeningHours
    closed_dates: list[str]
    pickup: Pickup
    delivery: Delivery
    open_now: bool
    next_opening: str | None = None
    distance_km: float | None = None


class ShopPage(Struct):
    items: list[Shop]
    next_cursor: str | None


class RetailerShop(Struct):
    """The shop as its retailer and the operator see it."""

    id: Id
    status: str
    profile: ShopProfile
    api_key_prefix: str
    created_at: str
    updated_at: str


class RetailerShopPage(Struct):
    items: list[RetailerShop]
    next_cursor: str | None


class CreatedShop(Struct):
    shop: RetailerShop
    api_key: Annotated[str, Meta(description="The retailer's API key. Shown once; store it now.")]


class RotatedKey(Struct):
    api_key: Annotated[str, Meta(description="The new key; the previous one stops working at once.")]
    api_key_prefix: str


class ShopListQuery(Struct, forbid_unknown_fields=True):
    category: Slug | None = None
    limit: Limit = 20
    cursor: Cursor | None = None


class OperatorShopListQuery(Struct, forbid_unknown_fields=True):
    status: Annotated[str, Meta(pattern="^(active|suspended)$")] = "active"
    limit: Limit = 20
    cursor: Cursor | None = None


class NearbyQuery(Struct, forbid_unknown_fields=True):
    lat: Latitude
    lng: Longitude
    radius_km: Annotated[float, Meta(gt=0, le=50)] = 5.0
    category: Slug | None = None
    limit: Limit = 20
    cursor: Cursor | None = None


def profile_fields(update: ShopProfileUpdate) -> dict[str, object]:
    return {f: v for f in update.__struct_fields__ if (v := getattr(update, f)) is not msgspec.UNSET}
