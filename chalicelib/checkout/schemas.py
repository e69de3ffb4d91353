"""Cart and checkout on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import date as date_
from typing import Annotated, Literal

from msgspec import Meta, Struct, field

from chalicelib.core.types import Id, Latitude, Longitude
from chalicelib.core.validation import text
from chalicelib.shop.schemas import Address, Email, Phone

Quantity = Annotated[int, Meta(ge=1, le=99, description="Units of this variant, 1 to 99")]


class NewCart(Struct, forbid_unknown_fields=True):
    """Nothing is needed to open a cart; lines can be sent at once."""

    lines: Annotated[list[LineIn], Meta(max_length=25)] = []


class LineIn(Struct, forbid_unknown_fields=True):
    variant_id: Id
    quantity: Quantity


class QuantityIn(Struct, forbid_unknown_fields=True):
    quantity: Quantity


class DeliveryAddress(Struct, forbid_unknown_fields=True):
    """Where to deliver. Storefronts geocode the address; the mall checks the shop's delivery radius."""

    street: Annotated[str, text(min_length=1, max_length=200)]
    postal_code: Annotated[str, Meta(pattern=r"^[0-9A-Za-z -]{2,12}$")]
    city: Annotated[str, text(min_length=1, max_length=100)]
    country: Annotated[str, Meta(pattern=r"^[A-Z]{2}$")]
    lat: Latitude
    lng: Longitude


class Contact(Struct, forbid_unknown_fields=True):
    name: Annotated[str, text(min_length=1, max_length=100)]
    phone: Phone


SlotKey = Annotated[
    str,
    Meta(
        # What browsers produce too: toISOString()'s milliseconds (zero for a slot start) and offsets.
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.0{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})$",
        description="A pickup slot's start as listed by .../pickup-slots, or the same instant with an offset"
        " or milliseconds (2026-12-05T10:30:00.000+01:00): stored as the slot's UTC start",
    ),
]


class FulfilmentIn(Struct, forbid_unknown_fields=True):
    method: Literal["pickup", "delivery"]
    address: DeliveryAddress | None = None
    contact: Contact | None = None
    slot_start: SlotKey | None = None  # pickup at a shop that takes slot bookings

    def __post_init__(self) -> None:
        if self.slot_start is not None:
            # One key per slot (the bookings' key, chalicelib/shop/slots.slot_key, not imported here to keep
            # it off the catalogue's cold start): the same instant however the client wrote it.
            instant = datetime.fromisoformat(self.slot_start).astimezone(UTC)
            self.slot_start = instant.strftime("%Y-%m-%dT%H:%M:%SZ")


class PickupSlotsQuery(Struct, forbid_unknown_fields=True):
    """One day (`date`) or a range (`from`, `to`, at most 14 days) in the shop's time zone; by default the
    next 14 days."""

    date: date_ | None = None
    from_: date_ | None = field(default=None, name="from")
    to: date_ | None = None


class CheckoutIn(Struct, forbid_unknown_fields=True):
    email: Email


class VatOut(Struct):
    rate_bps: int
    gross_cents: int
    vat_cents: int


class CartLine(Struct):
    variant_id: Id
    product_id: Id
    shop_id: Id
    name: str
    sku: str
    options: dict[str, str]
    quantity: int
    unit_price_cents: int
    total_cents: int
    vat_rate_bps: int
    vat_cents: int
    available: int
    problem: str | None
    # As product lists show them: the cover's 200 px rendition (None without a ready image), and whether
    # the variant is on sale now (`available` > 0).
    cover_url: str | None = None
    in_stock: bool = False


class ChosenSlot(Struct):
    start: str
    end: str | None  # None once the slot can no longer be honoured (past, or the shop changed its hours)


class PickupSlot(Struct):
    start: Annotated[str, Meta(description="The slot's key: send it as slot_start")]
    end: str
    remaining: int


class PickupSlots(Struct):
    shop_id: Id
    mode: Annotated[str, Meta(description='"slots", or "ready_within_hours" for a shop without slots')]
    timezone: str
    slots: list[PickupSlot]
    ready_by: Annotated[str | None, Meta(description="Without slots: when an order placed now is ready")]


class FulfilmentOut(Struct):
    method: str
    available_methods: list[str]
    delivery_fee_cents: int
    address: DeliveryAddress | None
    contact: Contact | None
    ready_within_hours: int | None
    pickup_address: str
    problem: str | None
    pickup_slot: ChosenSlot | None = None


class CartShop(Struct):
    shop_id: Id
    shop_name: str
    fulfilment: FulfilmentOut
    lines: list[CartLine]
    subtotal_cents: int
    delivery_fee_cents: int
    total_cents: int
    vat: list[VatOut]


class Cart(Struct):
    id: Id
    status: str
    currency: str
    shops: list[CartShop]
    subtotal_cents: int
    delivery_fees_cents: int
    total_cents: int
    vat: list[VatOut]
    line_count: int
    ready_for_checkout: bool
    problems: list[str]
    order_id: str | None


class CreatedCart(Struct):
    cart: Cart
    cart_token: Annotated[str, Meta(description="Send as X-Cart-Token on every call for this cart")]


class CheckoutResult(Struct):
    order_id: Id
    order_token: Annotated[str, Meta(description="Send as X-Order-Token to read the order")]
    payment_intent_id: str
    client_secret: Annotated[str, Meta(description="Confirm the payment with Stripe.js")]
    status: str
    total_cents: int
    currency: str
    hold_until: str


# Address is re-exported for callers that build pickup details.
__all__ = ["Address"]
