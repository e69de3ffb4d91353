"""Refund amounts per line: whatever the order and size of partial refunds, their parts are never negative
and add up to exactly what was paid for the line (no cent lost or refunded twice to rounding)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.ledger.commission import share as _share


@st.composite
def line_and_parts(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    sold = draw(st.integers(min_value=1, max_value=50))
    total = draw(st.integers(min_value=0, max_value=5_000_000))
    parts: list[int] = []
    left = sold
    while left:
        part = draw(st.integers(min_value=1, max_value=left))
        parts.append(part)
        left -= part
    return total, sold, parts


@given(line_and_parts())
def test_parts_of_a_line_add_up_to_its_total_and_are_never_negative(case: tuple[int, int, list[int]]) -> None:
    total, sold, parts = case
    before, amounts = 0, []
    for quantity in parts:
        amounts.append(_share(total, sold, before, quantity))
        before += quantity

    assert sum(amounts) == total
    assert all(amount >= 0 for amount in amounts)
    # Each part is within a cent of its exact proportional value.
    assert all(abs(a * sold - total * q) < sold for a, q in zip(amounts, parts, strict=True))


def test_a_line_of_one_unit_is_refunded_in_full() -> None:
    assert _share(1299, 1, 0, 1) == 1299
