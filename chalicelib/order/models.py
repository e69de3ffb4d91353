from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)

from chalicelib.core.db import MallItem, shard_of
from chalicelib.ledger.commission import CommissionRate, taken_cents

PENDING_PAYMENT = "pending_payment"
PAID = "paid"
CANCELLED = "cancelled"
# Only orders waiting for payment are in the expiry index (gsi3 is sparse), sharded by order id so no one
# index partition takes every checkout's write (docs/data-model.md, "Sharded due-work indexes").
EXPIRY_PARTITION = "HOLDS#pending_payment#{shard}"
EXPIRY_SHARDS = 8


def expiry_partition(order_id: str) -> str:
    return EXPIRY_PARTITION.format(shard=shard_of(order_id, EXPIRY_SHARDS))


class OrderItem(MallItem, discriminator="order"):
    """pk = ORDER#<id>, sk = ORDER. The customer's single payment for a cart spanning several shops.

    gsi3: HOLDS#pending_payment#<shard 0..7> / <hold_until>#<id> while the stock hold is alive, for the
    expiry job.
    """

    order_id = UnicodeAttribute()
    cart_id = UnicodeAttribute()
    status = UnicodeAttribute()
    email = UnicodeAttribute()
    currency = UnicodeAttribute(default="EUR")
    subtotal_cents = NumberAttribute()
    delivery_fees_cents = NumberAttribute()
    total_cents = NumberAttribute()
    vat = JSONAttribute()  # [{"rate_bps", "gross_cents", "vat_cents"}]
    token_digest = UnicodeAttribute()
    shop_ids = ListAttribute(of=UnicodeAttribute)
    # [[product_id, variant_id, quantity]]: what checkout took from stock, so a release needs no reads.
    reservations = JSONAttribute()
    hold_until = UnicodeAttribute()
    payment_intent_id = UnicodeAttribute(null=True)
    client_secret = UnicodeAttribute(null=True)
    cancel_reason = UnicodeAttribute(null=True)
    # The last declined attempt ({"code", "decline_code", "message", "at"}): the intent stays open for
    # another card until the hold ends (chalicelib/order/unpaid.py).
    last_payment_error = JSONAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key_for(order_id: str) -> tuple[str, str]:
        return f"ORDER#{order_id}", "ORDER"


class SubOrderItem(MallItem, discriminator="sub_order"):
    """pk = ORDER#<order id>, sk = SUB#<shop id>: one shop's part of an order, handled by that shop.

    gsi1: SHOP#<shop>#SUBORDERS#<status> / <created_at>#<order id>   the shop's sub-orders by status
    gsi2: SHOP#<shop>#SUBORDERS / <created_at>#<order id>            all of the shop's sub-orders
    Both are read newest first.
    """

    order_id = UnicodeAttribute()
    shop_id = UnicodeAttribute()
    shop_name = UnicodeAttribute()
    status = UnicodeAttribute()
    email = UnicodeAttribute()
    fulfilment = JSONAttribute()  # {"method", "address", "contact", "pickup": {...}}
    lines = JSONAttribute()  # each line keeps its price, VAT rate and VAT amount as sold
    subtotal_cents = NumberAttribute()
    delivery_fee_cents = NumberAttribute()
    total_cents = NumberAttribute()
    vat = JSONAttribute()
    history = JSONAttribute(default=list)  # [{"at", "by", "from", "to"}]
    # Pickup only, set when the order is paid: shown to the customer, never in a shop's view.
    pickup_code = UnicodeAttribute(null=True)
    # Pickup-code attempts taken in the window that started at the first of them: every wrong code, and the
    # right one that collected; each taken before its compare (chalicelib/order/fulfilment.py).
    pickup_failures = NumberAttribute(null=True)
    pickup_failures_since = UnicodeAttribute(null=True)
    # Refunds (chalicelib/order/refunds.py): units refunded per variant, including pending refunds, and a
    # counter every refund increments conditionally, so concurrent refunds of one sub-order serialize.
    refunded = JSONAttribute(null=True)  # {variant_id: quantity}
    # {variant_id: cents} the same refunds took: amounts follow the cents taken, not a formula on units,
    # so a refund failing out of order never leaves a cent behind (chalicelib/ledger/commission.py).
    refunded_cents = JSONAttribute(null=True)
    refund_seq = NumberAttribute(null=True)
    # Incremented by every settlement of one of its refunds, conditionally, so settlements serialize too.
    settle_seq = NumberAttribute(null=True)
    # Set with the no-show index entry (gsi3) when the sub-order became ready_for_pickup.
    ready_at = UnicodeAttribute(null=True)
    # The mall's commission, fixed at checkout (chalicelib/ledger/commission.py); absent on sub-orders
    # from before commissions existed, which then carry none.
    commission_bps = NumberAttribute(null=True)
    commission_fixed_cents = NumberAttribute(null=True)
    # Set by the hand-over, which posts the sale to the shop's ledger; from then on every refund posts too,
    # and this is the commission charged so far (chalicelib/ledger/entries.py).
    earned_at = UnicodeAttribute(null=True)
    commission_charged_cents = NumberAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    @staticmethod
    def key_for(order_id: str, shop_id: str) -> tuple[str, str]:
        return f"ORDER#{order_id}", f"SUB#{shop_id}"

    @property
    def taken_cents(self) -> dict[str, int]:
        return taken_cents(self.lines, self.refunded, self.refunded_cents)

    @property
    def commission_rate(self) -> CommissionRate:
        return CommissionRate(int(self.commission_bps or 0), int(self.commission_fixed_cents or 0))

    def index_for_status(self) -> None:
        self.gsi1pk = f"SHOP#{self.shop_id}#SUBORDERS#{self.status}"
        self.gsi1sk = f"{self.created_at}#{self.order_id}"
        self.gsi2pk = f"SHOP#{self.shop_id}#SUBORDERS"
        self.gsi2sk = f"{self.created_at}#{self.order_id}"


class OrderEventItem(MallItem, discriminator="order_event"):
    """pk = EVENTS#<yyyy-mm-dd>, sk = <at, microseconds>#<order>#<shop or ->#<seq>: one change of an order,
    written in the transaction that makes the change, for the notification channel to pick up later.

    One partition per UTC day, sorted by time, so "recent events" is a Query read backwards. ``seq`` is the
    position of the change in the sub-order's history (0 for order-level events), which keeps keys distinct
    within one microsecond; the change's own condition makes it, and so its event, happen once. Kept 30
    days (TTL on ``expires_at``).
    """

    event_type = UnicodeAttribute(attr_name="type")  # "order.paid", "sub_order.<status>", "payout.<status>"
    order_id = UnicodeAttribute(null=True)  # None for a payout event
    payout_id = UnicodeAttribute(null=True)  # payout events only
    amount_cents = NumberAttribute(null=True)  # payout events only
    shop_id = UnicodeAttribute(null=True)  # None for an order-level event
    shop_ids = ListAttribute(of=UnicodeAttribute)  # every shop concerned
    from_status = UnicodeAttribute()
    to_status = UnicodeAttribute()
    by = UnicodeAttribute()
    at = UnicodeAttribute()
    expires_at = NumberAttribute()


class RefundItem(MallItem, discriminator="refund"):
    """pk = ORDER#<order id>, sk = REFUND#<refund id>: money given back for (part of) one shop's sub-order.

    Written ``pending`` in the transaction that reserves the refunded units on the sub-order; the provider's
    answer (or its webhook) moves it to ``succeeded`` or ``failed``. ``lines``: [{variant_id, product_id,
    name, quantity, amount_cents}]; ``amount_cents`` includes VAT (and the delivery fee when a whole
    sub-order is cancelled before hand-over). ``shop_id`` is "mall" for the mall's own refund of a payment
    that arrived after its order was cancelled.

    gsi2: REFUNDS#<pending|failed> / <updated_at>#<order>#<refund>   while it still needs seeing through
    """

    order_id = UnicodeAttribute()
    shop_id = UnicodeAttribute()
    refund_id = UnicodeAttribute()
    status = UnicodeAttribute()  # pending, succeeded, failed
    amount_cents = NumberAttribute()
    lines = JSONAttribute()
    restock = UnicodeAttribute()  # "yes" / "no": kept readable in the console
    reason = UnicodeAttribute(default="")
    requested_by = UnicodeAttribute()
    cancels = UnicodeAttribute(default="no")  # "yes" when this refund came with cancelling the sub-order
    stripe_refund_id = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    # 0 for the first request to the provider; a failed refund that is retried is a new attempt with its
    # own idempotency key (chalicelib/order/refunds.py).
    attempt = NumberAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    @staticmethod
    def key_for(order_id: str, refund_id: str) -> tuple[str, str]:
        return f"ORDER#{order_id}", f"REFUND#{refund_id}"
