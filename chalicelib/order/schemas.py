"""Orders on the wire: the customer's view (whole order) and a shop's view (its sub-order)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from chalicelib.checkout.schemas import VatOut
from chalicelib.core.types import Cursor, Id, Limit
from chalicelib.core.validation import text
from chalicelib.order.lifecycle import Status


class OrderLine(Struct):
    variant_id: Id
    product_id: Id
    name: str
    sku: str
    options: dict[str, str]
    quantity: int
    unit_price_cents: int
    total_cents: int
    vat_rate_bps: int
    vat_cents: int
    # Of this line, refunded so far (refunds Stripe has not confirmed yet included; a failed one gives
    # its units back).
    refunded_quantity: int = 0
    refunded_cents: int = 0


class FeeLine(Struct):
    """A charge that is not goods: the delivery fee (included in the sub-order's total_cents)."""

    kind: Literal["delivery"]
    amount_cents: int
    vat_rate_bps: int
    vat_cents: int
    refunded_cents: int


class StatusChange(Struct):
    at: str
    by: str
    from_status: str | None
    to_status: str


class SubOrder(Struct):
    order_id: Id
    shop_id: Id
    shop_name: str
    status: str
    fulfilment: dict[str, Any]
    lines: list[OrderLine]
    subtotal_cents: int
    delivery_fee_cents: int
    total_cents: int
    vat: list[VatOut]
    history: list[StatusChange]
    created_at: str
    updated_at: str
    customer_email: str | None = None  # shown to the shop that must contact the customer
    # The retailer's view only: the statuses the shop may move this sub-order to now (its buttons).
    actions: list[str] | None = None
    fee_lines: list[FeeLine] = []
    # Given back so far, lines and fee (refunds under way included); refund_status says "partially_refunded"
    # or "refunded" as soon as money went back, whatever the status (None: nothing refunded).
    refunded_cents: int = 0
    refund_status: Literal["partially_refunded", "refunded"] | None = None
    # The retailer's view only: whom to call (the contact checkout collected, for delivery or pickup).
    customer_name: str | None = None
    customer_phone: str | None = None


class PaymentError(Struct):
    """The last declined payment of an unpaid order: the customer may try another card until hold_until."""

    code: str  # Stripe's (card_declined, expired_card...)
    decline_code: str | None
    message: str  # Stripe's words for the customer
    at: str


class Order(Struct):
    id: Id
    status: str
    currency: str
    email: str
    subtotal_cents: int
    delivery_fees_cents: int
    total_cents: int
    vat: list[VatOut]
    shops: list[SubOrder]
    payment_intent_id: str | None
    hold_until: str
    created_at: str
    updated_at: str
    # The cart it came from: reopened when the customer gives up paying (POST /orders/{id}/cancel).
    cart_id: Id | None = None
    # While pending_payment: the last declined attempt, else None.
    last_payment_error: PaymentError | None = None
    cancel_reason: str | None = None
    refunded_cents: int = 0  # every shop's refunded_cents


class SubOrderPage(Struct):
    items: list[SubOrder]
    next_cursor: str | None


class SubOrderListQuery(Struct, forbid_unknown_fields=True):
    # The statuses by name: an unknown one is a 400, as every other enum filter is, not an empty page.
    status: Status | None = None
    limit: Limit = 20
    cursor: Cursor | None = None


class StatusChangeIn(Struct, forbid_unknown_fields=True):
    to: Annotated[str, Meta(pattern=r"^[a-z_]{3,30}$", description="The sub-order's next status")]
    pickup_code: (
        Annotated[str, Meta(pattern=r"^[0-9]{6}$", description="The customer's code; needed for collected")]
        | None
    ) = None


class OrderEvent(Struct):
    type: str
    order_id: Id | None  # None for a payout event
    shop_id: Id | None
    shop_ids: list[Id]
    from_status: str
    to_status: str
    by: str
    at: str
    payout_id: str | None = None
    amount_cents: int | None = None


class OrderEventPage(Struct):
    items: list[OrderEvent]


class EventQuery(Struct, forbid_unknown_fields=True):
    limit: Limit = 20


class RefundLineIn(Struct, forbid_unknown_fields=True):
    variant_id: Id
    quantity: Annotated[int, Meta(ge=1, le=10_000, description="Units to refund (at least 1)")]


class RefundIn(Struct, forbid_unknown_fields=True):
    # None = everything not refunded yet. Before hand-over only a whole sub-order can be refunded, which
    # cancels it.
    lines: Annotated[list[RefundLineIn], Meta(min_length=1, max_length=100)] | None = None
    restock: bool = False
    reason: Annotated[str, text(max_length=500, multiline=True)] = ""


class RefundLine(Struct):
    variant_id: Id
    quantity: int
    amount_cents: int


class Refund(Struct):
    id: Id
    order_id: Id
    shop_id: Id
    status: str  # pending, succeeded, failed
    amount_cents: int  # incl. VAT (and the delivery fee when it cancelled the sub-order)
    lines: list[RefundLine]
    restock: bool
    reason: str
    requested_by: str
    cancelled_sub_order: bool
    provider_refund_id: str | None
    last_error: str | None
    created_at: str
    updated_at: str
    attempt: int = 0  # a failed refund retried is a new attempt with its own idempotency key


class RefundPage(Struct):
    items: list[Refund]
    next_cursor: str | None = None


class OperatorRefundQuery(Struct, forbid_unknown_fields=True):
    status: Literal["pending", "failed"] = "failed"
    limit: Limit = 20
    cursor: Cursor | None = None
