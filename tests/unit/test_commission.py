"""The commission arithmetic (chalicelib/ledger/commission.py) and the ledger postings built on it
(chalicelib/ledger/entries.py): integer cents, rounded half up, and whatever happens to a sub-order its
entries add up to the shop's share of what the customer paid and kept paid."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from math import floor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.clock import iso, parse, stamp
from chalicelib.ledger import entries as ledger
from chalicelib.ledger.commission import (
    CommissionRate,
    commission_on,
    earnings,
    percent_half_up,
    prorated,
    refund_amount,
    share,
    split,
    taken_cents,
)

MOMENT = datetime(2026, 3, 5, 14, 30, 0, tzinfo=UTC)

rates = st.builds(CommissionRate, st.integers(0, 5000), st.integers(0, 10_000))
amounts = st.integers(min_value=0, max_value=10_000_000)


def half_up(value: Fraction) -> int:
    return floor(value + Fraction(1, 2))


# --- percent_half_up ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "bps", "expected"),
    [(4699, 800, 376), (125, 200, 3), (0, 800, 0), (10_000, 1, 1), (4999, 1, 0), (5000, 1, 1), (999, 0, 0)],
)
def test_percent_rounds_half_up(amount: int, bps: int, expected: int) -> None:
    assert percent_half_up(amount, bps) == expected


@given(amounts, st.integers(min_value=0, max_value=10_000))
def test_percent_is_the_exact_value_rounded_half_up(amount: int, bps: int) -> None:
    assert percent_half_up(amount, bps) == half_up(Fraction(amount * bps, 10_000))


@pytest.mark.parametrize(("amount", "bps"), [(-1, 800), (100, -1), (-5, -5)])
def test_percent_refuses_negatives(amount: int, bps: int) -> None:
    with pytest.raises(ValueError):
        percent_half_up(amount, bps)


# --- CommissionRate and commission_on -------------------------------------------------------------------


@pytest.mark.parametrize(("bps", "fee"), [(-1, 0), (5001, 0), (0, -1), (0, 10_001), (6000, 20_000)])
def test_rate_out_of_range_is_refused(bps: int, fee: int) -> None:
    with pytest.raises(ValueError):
        CommissionRate(bps, fee)


@pytest.mark.parametrize(("bps", "fee"), [(0, 0), (5000, 0), (0, 10_000), (5000, 10_000)])
def test_rate_at_the_bounds_is_accepted(bps: int, fee: int) -> None:
    assert CommissionRate(bps, fee).rate_bps == bps


@pytest.mark.parametrize("goods", [0, -1, -10_000])
def test_no_commission_and_no_fixed_fee_on_nothing(goods: int) -> None:
    assert commission_on(goods, CommissionRate(800, 30)) == 0


def test_worked_commissions() -> None:
    assert commission_on(4699, CommissionRate(800, 0)) == 376
    assert commission_on(4699, CommissionRate(800, 30)) == 406
    # The fixed fee alone would exceed goods worth 20 cents: the commission stops at the goods.
    assert commission_on(20, CommissionRate(0, 50)) == 20


@given(st.integers(min_value=-1000, max_value=10_000_000), rates)
def test_commission_is_between_nothing_and_the_goods(goods: int, rate: CommissionRate) -> None:
    commission = commission_on(goods, rate)
    assert 0 <= commission <= max(goods, 0)
    exact = percent_half_up(max(goods, 0), rate.rate_bps) + rate.fixed_fee_cents
    if goods > 0 and exact < goods:
        assert commission == exact


@given(amounts, amounts, rates)
def test_commission_never_decreases_with_the_goods(a: int, b: int, rate: CommissionRate) -> None:
    low, high = sorted((a, b))
    assert commission_on(low, rate) <= commission_on(high, rate)


# --- share, split, prorated -----------------------------------------------------------------------------


@st.composite
def line_and_takes(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    sold = draw(st.integers(min_value=1, max_value=40))
    total = draw(amounts)
    takes: list[int] = []
    while sum(takes) < sold:
        takes.append(draw(st.integers(min_value=1, max_value=sold - sum(takes))))
    return total, sold, takes


@given(line_and_takes())
def test_parts_of_a_line_add_up_to_its_total(case: tuple[int, int, list[int]]) -> None:
    total, sold, takes = case
    before, parts = 0, []
    for quantity in takes:
        parts.append(share(total, sold, before, quantity))
        # With no refund failed, what a refund gives back is the share of its units.
        assert refund_amount(total, sold, before, share(total, sold, 0, before), quantity) == parts[-1]
        before += quantity
    assert sum(parts) == total
    for part, quantity in zip(parts, takes, strict=True):
        assert part >= 0
        assert abs(Fraction(part) - Fraction(total * quantity, sold)) < 1


def test_worked_shares() -> None:
    assert [share(10, 3, 0, 1), share(10, 3, 1, 1), share(10, 3, 2, 1)] == [3, 3, 4]
    assert share(1299, 1, 0, 1) == 1299
    assert (refund_amount(10, 3, 0, 0, 3), refund_amount(2, 3, 1, 2, 1)) == (10, 0)  # never negative


@given(amounts, st.lists(st.integers(min_value=0, max_value=100_000), max_size=12))
def test_split_adds_up_and_respects_the_weights(amount: int, weights: list[int]) -> None:
    parts = split(amount, weights)
    assert len(parts) == len(weights)
    assert all(part >= 0 for part in parts)
    assert all(part == 0 for part, weight in zip(parts, weights, strict=True) if weight == 0)
    if sum(weights) > 0:
        assert sum(parts) == amount
    else:
        assert parts == [0] * len(weights)


@given(st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=12), st.data())
def test_split_within_the_weights_never_exceeds_one(weights: list[int], data: st.DataObject) -> None:
    amount = data.draw(st.integers(min_value=0, max_value=sum(weights)))
    parts = split(amount, weights)
    assert all(part <= weight for part, weight in zip(parts, weights, strict=True))
    assert sum(parts) == (amount if sum(weights) else 0)


def test_worked_splits() -> None:
    assert split(100, [1, 1, 1]) == [33, 33, 34]
    assert split(7, [0, 5, 0, 5]) == [0, 3, 0, 4]
    assert split(50, [0, 0]) == [0, 0]


@given(amounts, st.data())
def test_prorated_rounds_the_exact_part_half_up(amount: int, data: st.DataObject) -> None:
    whole = data.draw(st.integers(min_value=1, max_value=10_000_000))
    part = data.draw(st.integers(min_value=0, max_value=whole))
    result = prorated(amount, part, whole)
    assert result == half_up(Fraction(amount * part, whole))
    assert 0 <= result <= amount


def test_worked_prorations() -> None:
    assert prorated(101, 1, 2) == 51
    assert prorated(100, 1, 3) == 33
    assert prorated(500, 7, 7) == 500
    assert prorated(500, 3, 0) == 0
    assert prorated(500, 3, -4) == 0


# --- earnings -------------------------------------------------------------------------------------------

sold_lines = st.lists(st.tuples(st.integers(1, 8), st.integers(0, 200_000)), min_size=1, max_size=4).map(
    lambda rows: [
        dict(variant_id=f"v{i}", name=f"item {i}", quantity=q, total_cents=t) for i, (q, t) in enumerate(rows)
    ]
)


@given(sold_lines, st.data(), st.integers(min_value=0, max_value=2000), rates)
def test_the_parts_add_up_to_what_the_customer_kept_paid(
    lines: list[dict[str, Any]], data: st.DataObject, delivery: int, rate: CommissionRate
) -> None:
    refunded = {
        line["variant_id"]: data.draw(st.integers(min_value=0, max_value=line["quantity"])) for line in lines
    }
    # A sub-order from before cents were recorded: the cents taken are the value of the units taken.
    due = earnings(lines, taken_cents(lines, refunded, None), delivery, rate)
    left = sum(
        line["total_cents"] - share(line["total_cents"], line["quantity"], 0, refunded[line["variant_id"]])
        for line in lines
    )
    assert due.goods_cents == left
    assert due.sale_cents == left + delivery
    assert due.commission_cents == commission_on(left, rate)
    assert due.shop_cents + due.commission_cents == due.sale_cents
    assert due.shop_cents >= delivery


def test_worked_earnings() -> None:
    lines = [{"variant_id": "a", "name": "A", "quantity": 2, "total_cents": 4699}]
    due = earnings(lines, None, 490, CommissionRate(800, 0))
    assert (due.goods_cents, due.sale_cents, due.commission_cents, due.shop_cents) == (4699, 5189, 376, 4813)
    refunded = earnings(lines, {"a": 4699}, 490, CommissionRate(800, 30))
    assert (refunded.goods_cents, refunded.commission_cents, refunded.shop_cents) == (0, 0, 490)
    # The cents recorded count, not the value of the units: after an earlier refund failed they differ.
    taken = taken_cents(lines, {"a": 1}, {"a": 2350})
    assert (taken, earnings(lines, taken, 0, CommissionRate()).goods_cents) == ({"a": 2350}, 2349)
    assert (taken_cents(lines, {"a": 1}, None), taken_cents(lines, None, None)) == ({"a": 2349}, {"a": 0})


# --- postings -------------------------------------------------------------------------------------------


def books(
    lines: list[dict[str, Any]], delivery: int = 0, rate: CommissionRate | None = None
) -> ledger.SubOrderBooks:
    return ledger.SubOrderBooks("ord_1", "shop_1", lines, delivery, rate or CommissionRate(800, 30), None)


LINES = [
    {"variant_id": "a", "name": "Mug", "quantity": 3, "total_cents": 3000},
    {"variant_id": "b", "name": "Tea", "quantity": 1, "total_cents": 1699},
]


def test_hand_over_posts_the_sale_and_its_commission_after_the_hold() -> None:
    posting = ledger.hand_over(books(LINES, 490), {"a": 1}, {"a": 1000}, MOMENT)
    sale, commission = posting.entries
    assert (sale.entry_type, sale.amount_cents) == (ledger.SALE, 2000 + 1699 + 490)
    assert sale.lines == [
        {"name": "Mug", "quantity": 2, "amount_cents": 2000},
        {"name": "Tea", "quantity": 1, "amount_cents": 1699},
        {"name": "delivery", "quantity": 1, "amount_cents": 490},
    ]
    expected = percent_half_up(3699, 800) + 30
    assert (commission.entry_type, commission.amount_cents) == (ledger.COMMISSION, -expected)
    assert posting.commission_charged_cents == expected
    for entry in posting.entries:
        assert entry.gsi1pk == "LEDGER#shop_1#UNSETTLED"
        assert entry.order_id == "ord_1"
        assert entry.at == iso(MOMENT)
        assert parse(entry.available_at) - parse(entry.at) == timedelta(days=7)
    assert commission.gsi2pk == "COMMISSIONS#2026-03-05"
    assert (commission.rate_bps, commission.fixed_fee_cents) == (800, 30)
    assert sale.gsi2pk is None


def test_the_hold_is_read_when_posting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYOUT_HOLD_DAYS", "3")
    (sale, *_) = ledger.hand_over(books(LINES), {}, {}, MOMENT).entries
    assert sale.available_at == stamp(MOMENT + timedelta(days=3))


def test_no_commission_entry_when_there_is_no_commission() -> None:
    posting = ledger.hand_over(books(LINES, 490, CommissionRate()), {}, {}, MOMENT)
    assert [e.entry_type for e in posting.entries] == [ledger.SALE]
    assert posting.commission_charged_cents == 0
    everything = ledger.hand_over(books(LINES, 490), {"a": 3, "b": 1}, {"a": 3000, "b": 1699}, MOMENT)
    assert [(e.entry_type, e.amount_cents) for e in everything.entries] == [(ledger.SALE, 490)]


def test_before_hand_over_refunds_post_nothing() -> None:
    before = books(LINES)
    assert ledger.refund(before, "ref_1", 1000, [], {"a": 1000}, MOMENT) == ledger.Posting()
    assert ledger.refund_failed(before, "ref_1", 1000, {}, MOMENT) == ledger.Posting()


def test_refunds_after_hand_over_are_available_at_once() -> None:
    handed = replace(books(LINES), commission_charged_cents=percent_half_up(4699, 800) + 30)
    posting = ledger.refund(handed, "ref_1", 1000, [{"name": "Mug"}], {"a": 1000}, MOMENT)
    debit, back = posting.entries
    assert (debit.entry_type, debit.amount_cents, debit.source_id) == (ledger.REFUND, -1000, "ref_1")
    assert back.entry_type == ledger.COMMISSION_RETURN
    assert back.amount_cents == percent_half_up(4699, 800) - percent_half_up(3699, 800)
    assert posting.commission_charged_cents == percent_half_up(3699, 800) + 30
    assert back.gsi2pk == "COMMISSIONS#2026-03-05"
    for entry in posting.entries:
        assert entry.available_at == stamp(MOMENT)
        assert entry.gsi1pk == "LEDGER#shop_1#UNSETTLED"
    failed = ledger.refund_failed(replace(handed, commission_charged_cents=330), "ref_1", 1000, {}, MOMENT)
    credit, charge = failed.entries
    assert (credit.entry_type, credit.amount_cents) == (ledger.REFUND_REVERSAL, 1000)
    assert (charge.entry_type, charge.amount_cents) == (ledger.COMMISSION, 330 - 406)
    assert credit.available_at == stamp(MOMENT)


Refund = tuple[str, dict[str, tuple[int, int]], int]  # id, (units, amount) per variant, amount


class Refunds:
    """A sub-order's refunds as the order domain keeps them (chalicelib/order/refunds.py): the units and
    cents taken per line, pending refunds included, and the refunds standing (pending or succeeded)."""

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        self.line = {x["variant_id"]: (x["total_cents"], x["quantity"]) for x in lines}
        self.units: defaultdict[str, int] = defaultdict(int)
        self.cents: defaultdict[str, int] = defaultdict(int)
        self.standing: list[Refund] = []

    def left(self, v: str) -> int:
        return self.line[v][1] - self.units[v]

    def plan(self, wanted: dict[str, int]) -> dict[str, tuple[int, int]]:
        """As ``_refund_lines``: each line's amount from the units and cents taken before."""
        return {
            v: (q, refund_amount(*self.line[v], self.units[v], self.cents[v], q)) for v, q in wanted.items()
        }

    def record(self, refund_id: str, taken: dict[str, tuple[int, int]]) -> Refund:
        for v, (quantity, amount) in taken.items():
            self.units[v], self.cents[v] = self.units[v] + quantity, self.cents[v] + amount
        self.standing.append((refund_id, taken, sum(a for _, a in taken.values())))
        return self.standing[-1]

    def fail(self, refund: Refund) -> None:
        """As ``_stage_reversal``: exactly the failed refund's units and amount per line are given back."""
        self.standing.remove(refund)
        for v, (quantity, amount) in refund[1].items():
            self.units[v], self.cents[v] = self.units[v] - quantity, self.cents[v] - amount


@settings(max_examples=150)
@given(sold_lines, st.integers(0, 1000), rates, st.lists(st.booleans(), max_size=12), st.data())
def test_entries_always_add_up_to_the_shop_share(
    lines: list[dict[str, Any]], delivery: int, rate: CommissionRate, steps: list[bool], data: st.DataObject
) -> None:
    """Any history of refunds and failed refunds (True: any refund still standing fails, in any order),
    before and after the one hand-over, with the commission charged threaded back after each posting."""
    events: list[bool | str] = list(steps)
    events.insert(data.draw(st.integers(min_value=0, max_value=len(steps))), "hand_over")
    state, refunds, posted = books(lines, delivery, rate), Refunds(lines), []

    def post(posting: ledger.Posting) -> None:
        nonlocal state
        posted.extend(posting.entries)
        if posting.commission_charged_cents is not None:
            state = replace(state, commission_charged_cents=posting.commission_charged_cents)

    for number, event in enumerate(events):
        if event == "hand_over":
            posting = ledger.hand_over(state, dict(refunds.units), dict(refunds.cents), MOMENT)
            sale = posting.entries[0]
            assert sum(x["amount_cents"] for x in sale.lines) == sale.amount_cents
            assert all(x["amount_cents"] >= 0 and x["quantity"] > 0 for x in sale.lines)
            post(posting)
        elif event and refunds.standing:
            (refund_id, _, amount) = failed = data.draw(st.sampled_from(refunds.standing))
            refunds.fail(failed)
            post(ledger.refund_failed(state, refund_id, amount, dict(refunds.cents), MOMENT))
        elif left := [v for v in refunds.line if refunds.left(v)]:
            chosen = data.draw(st.lists(st.sampled_from(left), min_size=1, unique=True))
            taken = refunds.plan({v: data.draw(st.integers(1, refunds.left(v))) for v in chosen})
            assert all(amount >= 0 for _, amount in taken.values())
            if sum(amount for _, amount in taken.values()):  # else the order domain: NothingToRefund
                (refund_id, _, amount) = refunds.record(f"ref_{number}", taken)
                post(ledger.refund(state, refund_id, amount, [], dict(refunds.cents), MOMENT))

    due = earnings(lines, refunds.cents, delivery, rate)
    assert sum(int(e.amount_cents) for e in posted) == due.shop_cents
    assert state.commission_charged_cents == commission_on(due.goods_cents, rate)
    commissions = [e for e in posted if e.entry_type in (ledger.COMMISSION, ledger.COMMISSION_RETURN)]
    assert -sum(int(e.amount_cents) for e in commissions) == due.commission_cents
    assert all(e.gsi2pk == "COMMISSIONS#2026-03-05" and e.amount_cents != 0 for e in commissions)
    # No cent lost or created: what the customer got back and the goods left make up what was sold.
    assert sum(r[2] for r in refunds.standing) + due.goods_cents == sum(line["total_cents"] for line in lines)
    for v, (total, _) in refunds.line.items():
        assert 0 <= refunds.cents[v] == sum(r[1][v][1] for r in refunds.standing if v in r[1]) <= total


@settings(max_examples=150)
@given(st.integers(min_value=1, max_value=12), amounts, st.lists(st.booleans(), max_size=16), st.data())
def test_refunding_every_unit_takes_back_exactly_the_line_total(
    sold: int, total: int, steps: list[bool], data: st.DataObject
) -> None:
    """Refunds of a line in any split, any of them failing in any order (True), then the rest refunded."""
    refunds = Refunds([{"variant_id": "a", "quantity": sold, "total_cents": total}])
    for number, fails in enumerate([*steps, *[False] * sold]):
        if fails and refunds.standing:
            refunds.fail(data.draw(st.sampled_from(refunds.standing)))
        elif refunds.left("a"):
            refunds.record(f"ref_{number}", refunds.plan({"a": data.draw(st.integers(1, refunds.left("a")))}))
    assert refunds.left("a") == 0
    assert sum(amount for _, _, amount in refunds.standing) == refunds.cents["a"] == total


def test_an_earlier_refund_failing_after_later_ones() -> None:
    """3 units for 10 cents, three single-unit refunds of 3, 3, 4 cents, the first fails: 2 units are
    still refunded, for 7 cents (not the value of 2 units, 6)."""
    line = {"variant_id": "a", "name": "Mug", "quantity": 3, "total_cents": 10}
    refunds = Refunds([line])
    first, *_ = [refunds.record(f"ref_{n}", refunds.plan({"a": 1})) for n in range(3)]
    assert [amount for _, _, amount in refunds.standing] == [3, 3, 4]
    refunds.fail(first)
    assert (refunds.units, refunds.cents, share(10, 3, 0, 2)) == ({"a": 2}, {"a": 7}, 6)  # 6: the old way
    free = CommissionRate()
    state = books([line], 0, free)
    posting = ledger.hand_over(state, refunds.units, refunds.cents, MOMENT)
    (sale,) = posting.entries
    assert (sale.entry_type, sale.amount_cents, posting.commission_charged_cents) == (ledger.SALE, 10 - 7, 0)
    assert sale.lines == [{"name": "Mug", "quantity": 1, "amount_cents": 3}]
    (_, _, amount) = refunds.record("ref_3", refunds.plan({"a": 1}))
    assert (refund_amount(10, 3, 2, 7, 1), amount, refunds.cents) == (3, 3, {"a": 10})
    posted = ledger.refund(replace(state, commission_charged_cents=0), "ref_3", 3, [], refunds.cents, MOMENT)
    assert [(e.entry_type, e.amount_cents) for e in posted.entries] == [(ledger.REFUND, -3)]
    # The line fully refunded: its entries add up to the shop's share of nothing.
    assert sale.amount_cents - 3 == earnings([line], refunds.cents, 0, free).shop_cents == 0


def test_a_lost_dispute_returns_the_commission_pro_rata() -> None:
    handed = replace(books(LINES), commission_charged_cents=406)
    posting = ledger.dispute_lost(handed, "dp_1", 1000, 4699, MOMENT)
    debit, back = posting.entries
    assert (debit.entry_type, debit.amount_cents) == (ledger.DISPUTE, -1000)
    assert (back.entry_type, back.amount_cents) == (ledger.COMMISSION_RETURN, prorated(406, 1000, 4699))
    assert back.amount_cents == 86
    assert posting.commission_charged_cents == 406 - 86
    assert debit.available_at == stamp(MOMENT)


@given(st.integers(min_value=0, max_value=20_000), st.integers(min_value=1, max_value=500_000), st.data())
def test_a_lost_dispute_never_returns_more_than_was_charged(
    charged: int, amount: int, data: st.DataObject
) -> None:
    remaining = data.draw(st.integers(min_value=-10, max_value=500_000))
    posting = ledger.dispute_lost(
        replace(books(LINES), commission_charged_cents=charged), "dp_1", amount, remaining, MOMENT
    )
    back = min(charged, prorated(charged, amount, remaining))
    assert posting.entries[0].amount_cents == -amount
    assert sum(int(e.amount_cents) for e in posting.entries) == back - amount
    assert len(posting.entries) == (2 if back else 1)
    assert posting.commission_charged_cents == (charged - back if back else None)


def test_a_lost_dispute_of_nothing_or_before_hand_over() -> None:
    assert ledger.dispute_lost(replace(books(LINES), commission_charged_cents=406), "dp", 0, 100, MOMENT) == (
        ledger.Posting()
    )
    posting = ledger.dispute_lost(books(LINES), "dp_1", 500, 4699, MOMENT)
    assert [(e.entry_type, e.amount_cents) for e in posting.entries] == [(ledger.DISPUTE, -500)]
    assert posting.commission_charged_cents is None
