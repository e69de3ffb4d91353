"""The pure rules of paying shops (chalicelib/payout/rules.py): a Connect account's state, the next
scheduled payout day, a shop's balance buckets and the entries one payout claims. The money-safety rule:
a payout never pays earnings while it leaves an available debt behind."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.payment.gateway import ConnectAccount
from chalicelib.payout.models import ACTIVE, ONBOARDING, RESTRICTED
from chalicelib.payout.rules import (
    MAX_MONTHLY_ANCHOR,
    WEEKDAYS,
    Entry,
    PayoutPlan,
    Schedule,
    account_state,
    buckets,
    next_payout_date,
    plan_payout,
)

# --- accounts -------------------------------------------------------------------------------------------


def account(
    *,
    submitted: bool = True,
    payouts: bool = True,
    transfers: str = "active",
    due: tuple[str, ...] = (),
    reason: str | None = None,
) -> ConnectAccount:
    return ConnectAccount("acct_1", "DE", submitted, True, payouts, transfers, due, reason)


def test_an_account_that_can_be_paid_is_active() -> None:
    state = account_state(account(due=("external_account",), reason="whatever"))
    assert (state.status, state.currently_due, state.disabled_reason) == (ACTIVE, (), None)


@pytest.mark.parametrize(
    ("payouts", "transfers"), [(False, "active"), (True, "pending"), (False, "inactive")]
)
def test_payouts_and_transfers_are_both_needed(payouts: bool, transfers: str) -> None:
    assert account_state(account(payouts=payouts, transfers=transfers)).status == RESTRICTED


def test_an_account_still_giving_its_details_is_onboarding() -> None:
    state = account_state(
        account(submitted=False, payouts=False, transfers="inactive", due=("tos",), reason="requirements")
    )
    assert (state.status, state.currently_due, state.disabled_reason) == (
        ONBOARDING,
        ("tos",),
        "requirements",
    )
    bare = account_state(account(submitted=False, payouts=False, transfers="unrequested"))
    assert (bare.status, bare.currently_due, bare.disabled_reason) == (ONBOARDING, (), None)


def test_a_restricted_account_says_why() -> None:
    state = account_state(account(payouts=False, due=("id",), reason="requirements.past_due"))
    assert (state.status, state.currently_due, state.disabled_reason) == (
        RESTRICTED,
        ("id",),
        "requirements.past_due",
    )
    assert account_state(account(transfers="pending")).disabled_reason == "transfers_pending"
    assert account_state(account(transfers="inactive")).disabled_reason == "transfers_inactive"


# --- schedules ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        (Schedule("daily"), date(2026, 12, 31), date(2027, 1, 1)),
        (Schedule("weekly", "monday"), date(2026, 3, 2), date(2026, 3, 9)),
        (Schedule("weekly", "tuesday"), date(2026, 3, 2), date(2026, 3, 3)),
        (Schedule("weekly", "sunday"), date(2026, 3, 2), date(2026, 3, 8)),
        (Schedule("weekly", "friday"), date(2026, 12, 30), date(2027, 1, 1)),
        (Schedule("monthly", monthly_anchor=15), date(2026, 12, 20), date(2027, 1, 15)),
        (Schedule("monthly", monthly_anchor=15), date(2026, 1, 15), date(2026, 2, 15)),
        (Schedule("monthly", monthly_anchor=15), date(2026, 1, 14), date(2026, 1, 15)),
        (Schedule("monthly", monthly_anchor=28), date(2026, 1, 31), date(2026, 2, 28)),
        (Schedule("monthly", monthly_anchor=1), date(2028, 2, 29), date(2028, 3, 1)),
        (Schedule("manual"), date(2026, 5, 5), None),
    ],
)
def test_worked_payout_dates(schedule: Schedule, after: date, expected: date | None) -> None:
    assert next_payout_date(schedule, after) == expected


def test_the_worked_weekday_is_a_monday() -> None:
    assert date(2026, 3, 2).weekday() == WEEKDAYS.index("monday")


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(days)
def test_daily_is_the_next_day(after: date) -> None:
    assert next_payout_date(Schedule("daily"), after) == after + timedelta(days=1)


@given(days, st.sampled_from(WEEKDAYS))
def test_weekly_is_the_first_such_weekday_after(after: date, weekday: str) -> None:
    result = next_payout_date(Schedule("weekly", weekly_anchor=weekday), after)
    assert result is not None
    assert after < result <= after + timedelta(days=7)
    assert WEEKDAYS[result.weekday()] == weekday
    assert all(
        WEEKDAYS[(after + timedelta(days=n)).weekday()] != weekday for n in range(1, (result - after).days)
    )


@given(days, st.integers(min_value=1, max_value=MAX_MONTHLY_ANCHOR))
def test_monthly_is_the_first_such_day_after(after: date, anchor: int) -> None:
    result = next_payout_date(Schedule("monthly", monthly_anchor=anchor), after)
    assert result is not None
    assert after < result <= after + timedelta(days=31)
    assert result.day == anchor
    assert all((after + timedelta(days=n)).day != anchor for n in range(1, (result - after).days))


@given(days)
def test_manual_has_no_date(after: date) -> None:
    assert next_payout_date(Schedule("manual"), after) is None


# --- buckets and plans ----------------------------------------------------------------------------------

CUTOFF = "2026-12-02T10:00:00.000000Z"
STAMPS = [
    "2026-11-20T08:00:00.000000Z",
    "2026-12-01T23:59:59.999999Z",
    "2026-12-02T09:59:59.999999Z",
    CUTOFF,
    "2026-12-02T10:00:00.000001Z",
    "2026-12-09T10:00:00.000000Z",
]
ORDERS = ["ord_a", "ord_b", "ord_c", None]


def entry(n: int, amount: int, order: str | None = "ord_a", at: str = STAMPS[0]) -> Entry:
    return Entry(f"{at}#x#{n:03}", amount, order, at)


@st.composite
def entry_sets(draw: st.DrawFn) -> list[Entry]:
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=-5000, max_value=5000), st.sampled_from(ORDERS), st.sampled_from(STAMPS)
            ),
            max_size=25,
        )
    )
    return [entry(n, amount, order, at) for n, (amount, order, at) in enumerate(rows)]


held_sets = st.sets(st.sampled_from(ORDERS[:3]))


def set_aside(entries: list[Entry], held: set[str]) -> set[str]:
    return {o for o in held if sum(e.amount_cents for e in entries if e.order_id == o) > 0}


def claimable(entries: list[Entry], held: set[str], cutoff: str) -> list[Entry]:
    aside = set_aside(entries, held)
    return [e for e in entries if e.available_at <= cutoff and e.order_id not in aside]


def test_worked_buckets() -> None:
    entries = [
        entry(1, 5000, "ord_a"),
        entry(2, -300, "ord_a", STAMPS[2]),
        entry(3, 2000, "ord_b", STAMPS[4]),
        entry(4, 1000, "ord_c"),
        entry(5, -1500, "ord_c"),
        entry(6, 700, None, CUTOFF),
    ]
    # ord_a nets to earnings and waits; ord_c nets to a debt and is not held back.
    owed = buckets(entries, {"ord_a", "ord_c"}, CUTOFF)
    assert (owed.available_cents, owed.on_hold_cents, owed.disputed_cents) == (200, 2000, 4700)
    plan = plan_payout(entries, {"ord_a", "ord_c"}, CUTOFF, minimum=100)
    assert plan == PayoutPlan((entries[4], entries[3], entries[5]), 200)


@settings(max_examples=200)
@given(entry_sets(), held_sets, st.sampled_from(STAMPS))
def test_buckets_add_up_to_the_balance(entries: list[Entry], held: set[str], cutoff: str) -> None:
    owed = buckets(entries, held, cutoff)
    aside = set_aside(entries, held)
    assert owed.available_cents + owed.on_hold_cents + owed.disputed_cents == sum(
        e.amount_cents for e in entries
    )
    assert owed.disputed_cents == sum(e.amount_cents for e in entries if e.order_id in aside)
    assert owed.available_cents == sum(e.amount_cents for e in claimable(entries, held, cutoff))
    assert owed.disputed_cents >= 0


def test_a_held_order_netting_to_a_debt_is_not_set_aside() -> None:
    entries = [entry(1, 1000, "ord_a"), entry(2, -1200, "ord_a"), entry(3, 5000, "ord_b")]
    owed = buckets(entries, {"ord_a"}, CUTOFF)
    assert (owed.available_cents, owed.disputed_cents) == (4800, 0)
    plan = plan_payout(entries, {"ord_a"}, CUTOFF)
    assert plan is not None and plan.entries[0] == entries[1] and plan.amount_cents == 4800
    assert plan_payout(entries, {"ord_a", "ord_b"}, CUTOFF) is None  # only ord_a's debt left: it waits


@settings(max_examples=300)
@given(
    entry_sets(),
    held_sets,
    st.sampled_from(STAMPS),
    st.integers(min_value=0, max_value=3000),
    st.integers(min_value=1, max_value=30),
)
def test_a_plan_claims_available_entries_debts_first(
    entries: list[Entry], held: set[str], cutoff: str, minimum: int, max_entries: int
) -> None:
    plan = plan_payout(entries, held, cutoff, minimum, max_entries)
    available = claimable(entries, held, cutoff)
    debts = [e for e in available if e.amount_cents <= 0]
    if plan is None:
        if len(available) <= max_entries:
            total = sum(e.amount_cents for e in available)
            assert not available or (total != 0 and total < minimum)
        return
    chosen = list(plan.entries)
    assert chosen and len(chosen) <= max_entries
    assert len(set(chosen)) == len(chosen)
    assert plan.amount_cents == sum(e.amount_cents for e in chosen)
    assert plan.amount_cents >= minimum or plan.amount_cents == 0
    assert all(e in available for e in chosen)
    # Debts first (by sk), then earnings, oldest first.
    kinds = [e.amount_cents <= 0 for e in chosen]
    assert kinds == sorted(kinds, reverse=True)
    owed_debts = [e for e in chosen if e.amount_cents <= 0]
    assert [e.sk for e in owed_debts] == sorted(e.sk for e in owed_debts)
    paid = [e for e in chosen if e.amount_cents > 0]
    assert [(e.available_at, e.sk) for e in paid] == sorted((e.available_at, e.sk) for e in paid)
    # Money safety: earnings are never paid while an available debt is left out.
    if paid or len(chosen) < max_entries:
        assert all(d in chosen for d in debts)
    if len(chosen) < max_entries:
        assert sorted(chosen, key=lambda e: e.sk) == sorted(available, key=lambda e: e.sk)
    # The oldest earnings go first: any earning left out is not older than one paid.
    if paid:
        newest = max((e.available_at, e.sk) for e in paid)
        assert all(
            (e.available_at, e.sk) > newest for e in available if e.amount_cents > 0 and e not in chosen
        )


def test_a_plan_below_the_minimum_waits() -> None:
    assert plan_payout([entry(1, 99, None)], set(), CUTOFF, minimum=100) is None
    assert plan_payout([entry(1, 100, None)], set(), CUTOFF, minimum=100) == PayoutPlan(
        (entry(1, 100, None),), 100
    )
    assert plan_payout([entry(1, -50, None)], set(), CUTOFF, minimum=0) is None
    assert plan_payout([], set(), CUTOFF, minimum=0) is None


def test_debts_and_earnings_that_cancel_out_are_netted() -> None:
    entries = [entry(1, 700, "ord_a"), entry(2, -700, "ord_b")]
    plan = plan_payout(entries, set(), CUTOFF, minimum=100)
    assert plan == PayoutPlan((entries[1], entries[0]), 0)
    zero = plan_payout([entry(3, 0, None)], set(), CUTOFF)
    assert zero is not None and zero.amount_cents == 0


def test_entries_after_the_cutoff_wait() -> None:
    late = entry(1, 5000, None, STAMPS[4])
    assert plan_payout([late], set(), CUTOFF) is None
    assert buckets([late], set(), CUTOFF).on_hold_cents == 5000
    exact = entry(2, 5000, None, CUTOFF)
    assert plan_payout([exact], set(), CUTOFF) == PayoutPlan((exact,), 5000)


def test_a_large_balance_is_paid_in_several_payouts() -> None:
    entries = [entry(n, -10, None) for n in range(3)] + [entry(10 + n, 500, None) for n in range(10)]
    plan = plan_payout(entries, set(), CUTOFF, minimum=100, max_entries=5)
    assert plan is not None
    assert plan.entries == (*entries[:3], entries[3], entries[4])
    assert plan.amount_cents == 970
    rest = [e for e in entries if e not in plan.entries]
    following = plan_payout(rest, set(), CUTOFF, minimum=100, max_entries=5)
    assert following is not None and following.amount_cents == 2500
