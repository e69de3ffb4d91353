"""The pure rules of paying shops: what a Connect account's state means, when a schedule is next due,
how a shop's unsettled entries split into buckets, and which of them one payout claims. No I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib.payment.gateway import ConnectAccount
from chalicelib.payout.models import ACTIVE, ONBOARDING, RESTRICTED

INTERVALS = ("daily", "weekly", "monthly", "manual")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_MONTHLY_ANCHOR = 28  # every month has that day
# Below this a payout waits (Stripe's bank payouts have minimums; a few cents are not worth a transfer).
MINIMUM_PAYOUT_CENTS = 100
# DynamoDB's 100 items per transaction, less the payout item and the shop's account item: a payout claims
# its entries in ONE transaction, so a shop with more available pays in several payouts of the same run.
MAX_ENTRIES_PER_PAYOUT = 98


# --- accounts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountState:
    status: str
    currently_due: tuple[str, ...] = ()
    disabled_reason: str | None = None


def account_state(account: ConnectAccount) -> AccountState:
    """active: payouts enabled and the transfers capability active (the mall can pay it). onboarding: the
    shop has not finished telling Stripe what it needs. restricted: it did, and Stripe still holds it back
    (the reason says why; a fresh onboarding link lets the shop fix it)."""
    if account.payouts_enabled and account.transfers == "active":
        return AccountState(ACTIVE)
    if not account.details_submitted:
        return AccountState(ONBOARDING, account.currently_due, account.disabled_reason)
    reason = account.disabled_reason or ("transfers_" + account.transfers)
    return AccountState(RESTRICTED, account.currently_due, reason)


# --- schedules --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    interval: str = "weekly"
    weekly_anchor: str = "monday"
    monthly_anchor: int = 1


def next_payout_date(schedule: Schedule, after: date) -> date | None:
    """The first scheduled payout day strictly after ``after``; None for a manual schedule."""
    if schedule.interval == "daily":
        return after + timedelta(days=1)
    if schedule.interval == "weekly":
        wanted = WEEKDAYS.index(schedule.weekly_anchor)
        return after + timedelta(days=(wanted - after.weekday() - 1) % 7 + 1)
    if schedule.interval == "monthly":
        anchor = schedule.monthly_anchor
        candidate = after.replace(day=anchor)
        if candidate <= after:
            year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
            candidate = date(year, month, anchor)
        return candidate
    return None


# --- balances ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """An unsettled ledger entry, as a payout sees it."""

    sk: str
    amount_cents: int
    order_id: str | None
    available_at: str  # µs stamp


@dataclass(frozen=True)
class Buckets:
    available_cents: int  # could be paid out now (negative: a debt carried forward)
    on_hold_cents: int  # earnings still in the mall's hold
    disputed_cents: int  # earnings of orders under dispute


def _disputed(entries: list[Entry], held_orders: set[str]) -> set[str]:
    """The held orders whose unsettled entries add up to earnings: those wait. A held order that nets to a
    debt (refunded after it was paid) is not held: a debt is never left behind."""
    net: dict[str, int] = {}
    for entry in entries:
        if entry.order_id in held_orders:
            net[entry.order_id] = net.get(entry.order_id, 0) + entry.amount_cents
    return {order for order, cents in net.items() if cents > 0}


def buckets(entries: Iterable[Entry], held_orders: set[str], cutoff: str) -> Buckets:
    """Each entry counts when it becomes available (earnings after the hold; debits are written available
    at once), except the entries of an order under dispute."""
    entries = list(entries)
    disputed_orders = _disputed(entries, held_orders)
    available = on_hold = disputed = 0
    for entry in entries:
        if entry.order_id in disputed_orders:
            disputed += entry.amount_cents
        elif entry.available_at > cutoff:
            on_hold += entry.amount_cents
        else:
            available += entry.amount_cents
    return Buckets(available, on_hold, disputed)


@dataclass(frozen=True)
class PayoutPlan:
    entries: tuple[Entry, ...]
    amount_cents: int


def plan_payout(
    entries: Iterable[Entry],
    held_orders: set[str],
    cutoff: str,
    minimum: int = MINIMUM_PAYOUT_CENTS,
    max_entries: int = MAX_ENTRIES_PER_PAYOUT,
) -> PayoutPlan | None:
    """The entries one payout claims: the available ones (see :func:`buckets`), debts first (a payout
    never leaves a debt behind while it pays earnings), then earnings, oldest first, up to
    ``max_entries``. None when that comes to less than ``minimum``: the entries wait. Entries adding up to
    exactly zero are claimed as a netted payout (amount 0), which moves no money and closes them on a
    statement."""
    entries = list(entries)
    disputed_orders = _disputed(entries, held_orders)
    claimable = [e for e in entries if e.available_at <= cutoff and e.order_id not in disputed_orders]
    debts = sorted((e for e in claimable if e.amount_cents <= 0), key=lambda e: e.sk)
    earnings = sorted((e for e in claimable if e.amount_cents > 0), key=lambda e: (e.available_at, e.sk))
    chosen = (debts + earnings)[:max_entries]
    amount = sum(e.amount_cents for e in chosen)
    if not chosen or (amount != 0 and amount < minimum):
        return None
    return PayoutPlan(tuple(chosen), amount)
