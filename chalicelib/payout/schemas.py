"""Payouts on the wire: the payout account, the schedule, the balance, payouts and their statements, the
mall's commission report."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from chalicelib.core.types import Cursor, Limit

Interval = Literal["daily", "weekly", "monthly", "manual"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Month = Annotated[str, Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="A month, YYYY-MM")]


class ScheduleIn(Struct, forbid_unknown_fields=True):
    interval: Interval
    weekly_anchor: Weekday | UnsetType = UNSET
    monthly_anchor: Annotated[int, Meta(ge=1, le=28, description="Day of the month, 1-28")] | UnsetType = (
        UNSET
    )


class ScheduleOut(Struct):
    interval: str
    weekly_anchor: str
    monthly_anchor: int
    paused: bool
    next_payout_on: str | None


class PayoutAccount(Struct):
    # not_started, onboarding, active, restricted, disconnected
    status: str
    stripe_account_id: str | None
    currently_due: list[str]
    disabled_reason: str | None
    schedule: ScheduleOut
    # Fresh links: an onboarding link while the account is not active (single-use, minutes), the Express
    # dashboard once it is.
    onboarding_url: str | None = None
    dashboard_url: str | None = None


class Balance(Struct):
    currency: str
    pending_cents: int  # paid orders not yet handed over: the shop's share once it does
    on_hold_cents: int  # handed over, waiting out the mall's hold (late refunds, disputes)
    disputed_cents: int  # earnings of orders under dispute
    available_cents: int  # paid at the next payout
    carried_forward_cents: int  # a debt (refunds after a payout), netted against the next earnings
    in_transit_cents: int  # on its way to the shop's bank
    paid_out_cents: int  # reached the bank, all time
    next_payout_on: str | None
    account_status: str


class Payout(Struct):
    id: str
    shop_id: str
    status: str
    amount_cents: int
    currency: str
    entries: int
    requested_by: str
    transfer_id: str | None
    bank_payout_id: str | None
    failure_code: str | None
    last_error: str | None
    reversed_cents: int
    created_at: str
    updated_at: str
    paid_at: str | None


class PayoutPage(Struct):
    items: list[Payout]
    next_cursor: str | None


class StatementLine(Struct):
    name: str
    quantity: int
    amount_cents: int


class StatementEntry(Struct):
    at: str
    type: str  # sale, commission, refund, commission_return, refund_reversal, dispute, clawback
    order_id: str | None
    amount_cents: int
    lines: list[StatementLine]
    rate_bps: int | None = None


class StatementTotals(Struct):
    sales_cents: int
    commission_cents: int  # negative: what the mall kept, net of what it returned
    refunds_cents: int  # negative: refunds net of failed refunds
    disputes_cents: int
    clawbacks_cents: int
    net_cents: int  # == the payout's amount


class Statement(Struct):
    payout: Payout
    entries: list[StatementEntry]
    totals: StatementTotals


class PayoutListQuery(Struct, forbid_unknown_fields=True):
    limit: Limit = 20
    cursor: Cursor | None = None


class OperatorPayoutQuery(Struct, forbid_unknown_fields=True):
    status: Literal[
        "claimed", "transferred", "in_transit", "paid", "returned", "failed", "netted", "reversed"
    ] = "failed"
    limit: Limit = 20
    cursor: Cursor | None = None


class PayNow(Struct):
    payouts: list[Payout]


class ReportQuery(Struct, forbid_unknown_fields=True):
    month: Month


class ReportShop(Struct):
    shop_id: str
    commission_earned_cents: int
    commission_returned_cents: int
    net_commission_cents: int


class CommissionReport(Struct):
    month: str
    currency: str
    commission_earned_cents: int
    commission_returned_cents: int
    net_commission_cents: int
    stripe_fees_cents: int  # Stripe's processing fees of the month's charges, where known
    orders_with_known_fees: int
    shops: list[ReportShop]


class SweepResult(Struct):
    shops_due: int
    messages: int


class ShopPayoutRun(Struct):
    shop_id: str
    outcome: str
    payouts: list[Payout]


# Where the simulated onboarding page sends the shop back: the account link's own URLs, as on Stripe.
BackUrl = Annotated[str, Meta(pattern=r"^https?://[^\s<>\"']+$", max_length=2048)]


class OnboardingQuery(Struct, forbid_unknown_fields=True):
    refresh_url: BackUrl | None = None
    return_url: BackUrl | None = None


class SweepQuery(Struct, forbid_unknown_fields=True):
    days_ahead: Annotated[
        int, Meta(ge=0, le=62, description="Run as if this many days had passed: due dates and holds")
    ] = 0


class SweepRun(Struct):
    shops_due: int
    runs: list[ShopPayoutRun]
