"""Payout items: a shop's payout account (Connect account, schedule, open work, counters), the lookup of a
Connect account's shop, one payout, one reversal of a payout's transfer, one dispute of an order."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)

from chalicelib.core.db import MallItem

# Account states (GET /retailer/payouts/account).
NOT_STARTED, ONBOARDING, ACTIVE, RESTRICTED, DISCONNECTED = (
    "not_started",
    "onboarding",
    "active",
    "restricted",
    "disconnected",
)
# Payout states. claimed: entries taken, transfer not yet made; transferred: on the shop's Stripe balance,
# bank payout not yet made; in_transit: on its way to the bank; returned: the bank sent it back (it waits
# on the shop's Stripe balance for the next bank payout); failed: Stripe refused the transfer, nothing
# moved, the entries are claimable again; netted: debts and earnings cancelled out, nothing to move;
# reversed: the mall took all of it back from the shop's Stripe balance against a debt (a clawback).
CLAIMED, TRANSFERRED, IN_TRANSIT, PAID, RETURNED, FAILED, NETTED, REVERSED = (
    "claimed",
    "transferred",
    "in_transit",
    "paid",
    "returned",
    "failed",
    "netted",
    "reversed",
)
PAYOUT_STATUSES = (CLAIMED, TRANSFERRED, IN_TRANSIT, PAID, RETURNED, FAILED, NETTED, REVERSED)
# gsi3 of shops due for a scheduled payout, sharded so no single index partition takes the whole mall's
# schedule writes: PAYOUTS#due#<shard> / <yyyy-mm-dd>#<shop>.
DUE_SHARDS = 16
DUE_PARTITION = "PAYOUTS#due#{shard}"


class PayoutAccountItem(MallItem, discriminator="payout_account"):
    """pk = SHOP#<shop>, sk = PAYOUT_ACCOUNT: everything about paying one shop.

    gsi3: PAYOUTS#due#<shard> / <next payout date>#<shop>   while a scheduled payout is due (sparse)
    """

    shop_id = UnicodeAttribute()
    stripe_account_id = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default=NOT_STARTED)
    currently_due = ListAttribute(of=UnicodeAttribute, default=list)
    disabled_reason = UnicodeAttribute(null=True)
    synced_at = UnicodeAttribute(null=True)
    # The retailer's schedule: daily, weekly (on weekly_anchor), monthly (on monthly_anchor), manual.
    interval = UnicodeAttribute(default="weekly")
    weekly_anchor = UnicodeAttribute(default="monday")
    monthly_anchor = NumberAttribute(default=1)
    next_payout_on = UnicodeAttribute(null=True)
    paused = BooleanAttribute(default=False)
    # One payout at a time: set by the claim, conditional on being absent; cleared once its money is on
    # the way to the bank (or the transfer was refused). The same guard for a reversal in progress.
    open_payout_id = UnicodeAttribute(null=True)
    open_reversal = UnicodeAttribute(null=True)  # <payout id>#<seq>
    returned_payout_ids = UnicodeSetAttribute(null=True)  # sent back by the bank: bank payout to redo
    # Orders under dispute: their earnings wait until the dispute closes.
    held_orders = UnicodeSetAttribute(null=True)
    # Kept in the transactions that move payouts, so the balance needs no read of past payouts.
    in_transit_cents = NumberAttribute(default=0)
    paid_out_cents = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    @staticmethod
    def key_for(shop_id: str) -> tuple[str, str]:
        return f"SHOP#{shop_id}", "PAYOUT_ACCOUNT"


class ConnectAccountLookup(MallItem, discriminator="connect_account"):
    """pk = CONNECT#<Stripe account id>, sk = ACCOUNT: the shop a Connect webhook's account belongs to."""

    shop_id = UnicodeAttribute()

    @staticmethod
    def key_for(account_id: str) -> tuple[str, str]:
        return f"CONNECT#{account_id}", "ACCOUNT"


class PayoutItem(MallItem, discriminator="payout"):
    """pk = PAYOUT#<id>, sk = PAYOUT: the ledger entries one transfer (and one bank payout) paid.

    gsi1: PAYOUTS#<status> / <created>#<id>        the operator's list by status
    gsi2: SHOP#<shop>#PAYOUTS / <created>#<id>     the shop's payouts, newest first
    """

    payout_id = UnicodeAttribute()
    shop_id = UnicodeAttribute()
    status = UnicodeAttribute()
    amount_cents = NumberAttribute()
    currency = UnicodeAttribute(default="EUR")
    # The claimed entries' sort keys in LEDGER#<shop>: exact, so a release or a statement reads them by key.
    entry_sks = ListAttribute(of=UnicodeAttribute)
    requested_by = UnicodeAttribute()  # schedule, operator, retailer
    destination = UnicodeAttribute(null=True)  # the Connect account
    transfer_id = UnicodeAttribute(null=True)
    bank_payout_id = UnicodeAttribute(null=True)
    bank_attempt = NumberAttribute(default=0)
    failure_code = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)  # the last provider failure whose outcome was unknown
    reversed_cents = NumberAttribute(default=0)  # taken back by reversals (pending ones included)

    @property
    def net_cents(self) -> int:
        """What of the payout still goes (or went) to the shop's bank: its amount less reversals."""
        return int(self.amount_cents) - int(self.reversed_cents or 0)

    reversal_seq = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    paid_at = UnicodeAttribute(null=True)

    @staticmethod
    def key_for(payout_id: str) -> tuple[str, str]:
        return f"PAYOUT#{payout_id}", "PAYOUT"

    def index(self) -> None:
        self.gsi1pk = f"PAYOUTS#{self.status}"
        self.gsi1sk = f"{self.created_at}#{self.payout_id}"
        self.gsi2pk = f"SHOP#{self.shop_id}#PAYOUTS"
        self.gsi2sk = f"{self.created_at}#{self.payout_id}"


class ReversalItem(MallItem, discriminator="transfer_reversal"):
    """pk = PAYOUT#<payout id>, sk = REVERSAL#<seq>: money taken back from a payout's transfer to clear a
    shop's debt. pending → succeeded (a clawback ledger entry) or failed (the debt is carried forward)."""

    payout_id = UnicodeAttribute()
    shop_id = UnicodeAttribute()
    seq = NumberAttribute()
    amount_cents = NumberAttribute()
    status = UnicodeAttribute()
    stripe_reversal_id = UnicodeAttribute(null=True)
    failure_code = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    @staticmethod
    def key_for(payout_id: str, seq: int) -> tuple[str, str]:
        return f"PAYOUT#{payout_id}", f"REVERSAL#{seq:04d}"


class DisputeItem(MallItem, discriminator="dispute"):
    """pk = ORDER#<order>, sk = DISPUTE#<Stripe dispute id>: a customer disputed the order's charge.
    open → won (the held earnings are released) or lost (the shops' shares are debited)."""

    dispute_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    shop_ids = ListAttribute(of=UnicodeAttribute)
    amount_cents = NumberAttribute()
    status = UnicodeAttribute()  # open, won, lost
    reason = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    @staticmethod
    def key_for(order_id: str, dispute_id: str) -> tuple[str, str]:
        return f"ORDER#{order_id}", f"DISPUTE#{dispute_id}"


class ProcessingFeeItem(MallItem, discriminator="processing_fee"):
    """pk = ORDER#<order>, sk = FEE: Stripe's processing fee of the order's charge, where known.

    gsi2: FEES#<yyyy-mm-dd> / <at>#<order>    for the operator's monthly report
    """

    order_id = UnicodeAttribute()
    amount_cents = NumberAttribute()
    at = UnicodeAttribute()

    @staticmethod
    def key_for(order_id: str) -> tuple[str, str]:
        return f"ORDER#{order_id}", "FEE"
