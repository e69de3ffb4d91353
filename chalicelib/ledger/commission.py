"""The arithmetic of a shop's earnings on one sub-order: pure, integer cents, no I/O.

The mall keeps a commission on the goods of a sub-order (their total including VAT): a rate in basis points
plus an optional fixed fee per sub-order, rounded half up, and never more than the goods themselves. The
delivery fee goes to the shop in full. Every figure is computed from the sub-order's *current* goods (what
was sold minus what was refunded), and every ledger movement is the difference between two such figures,
so however many refunds follow, the parts always add up to exactly what the customer paid and kept paid:

    shop's share + commission == goods left + delivery fee
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_RATE_BPS = 5000  # 50 %
MAX_FIXED_FEE_CENTS = 10_000


@dataclass(frozen=True)
class CommissionRate:
    """Fixed on the sub-order at checkout, so later changes of the mall's rates never touch past orders."""

    rate_bps: int = 0
    fixed_fee_cents: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.rate_bps <= MAX_RATE_BPS or not 0 <= self.fixed_fee_cents <= MAX_FIXED_FEE_CENTS:
            raise ValueError(f"commission out of range: {self}")


def percent_half_up(amount_cents: int, rate_bps: int) -> int:
    """``amount * rate / 10,000`` rounded half up (amounts are never negative here)."""
    if amount_cents < 0 or rate_bps < 0:
        raise ValueError("amounts and rates are not negative")
    return (2 * amount_cents * rate_bps + 10_000) // 20_000


def commission_on(goods_cents: int, rate: CommissionRate) -> int:
    """The commission on goods worth ``goods_cents`` (incl. VAT). Nothing left, nothing kept: a fully
    refunded sub-order owes no fixed fee either."""
    if goods_cents <= 0:
        return 0
    return min(goods_cents, percent_half_up(goods_cents, rate.rate_bps) + rate.fixed_fee_cents)


def share(total_cents: int, sold: int, before: int, quantity: int) -> int:
    """What ``quantity`` more units of a line of ``sold`` units worth ``total_cents`` are worth after
    ``before`` units were taken: cumulative, so the parts of a line always add up to exactly its total,
    whatever the rounding."""
    return total_cents * (before + quantity) // sold - total_cents * before // sold


def refund_amount(total_cents: int, sold: int, units_before: int, cents_before: int, quantity: int) -> int:
    """What refunding ``quantity`` more units of a line gives back, given what refunds took already (units
    and cents, pending ones included): the cumulative value after them less the cents already taken. When
    an earlier refund failed and gave its units and cents back, the two still add up: the unit that empties
    the line always takes exactly what is left of its total."""
    return max(0, total_cents * (units_before + quantity) // sold - cents_before)


def taken_cents(
    lines: Iterable[Mapping[str, Any]], units: Mapping[str, Any] | None, cents: Mapping[str, Any] | None
) -> dict[str, int]:
    """Cents taken back per line: as recorded, else (for sub-orders from before cents were recorded, when
    no refund could have failed out of order) the cumulative value of the units taken."""
    taken_units, recorded = units or {}, cents or {}
    result = {}
    for line in lines:
        variant = line["variant_id"]
        if variant in recorded:
            result[variant] = int(recorded[variant])
        else:
            result[variant] = share(
                int(line["total_cents"]), int(line["quantity"]), 0, int(taken_units.get(variant, 0))
            )
    return result


@dataclass(frozen=True)
class Earnings:
    """One sub-order as it stands: the goods left after refunds, the delivery fee, the commission on those
    goods, and the shop's share (what the mall owes the shop for it)."""

    goods_cents: int
    delivery_fee_cents: int
    commission_cents: int

    @property
    def sale_cents(self) -> int:
        return self.goods_cents + self.delivery_fee_cents

    @property
    def shop_cents(self) -> int:
        return self.sale_cents - self.commission_cents


def earnings(
    lines: Iterable[Mapping[str, Any]],
    taken: Mapping[str, int] | None,
    delivery_fee_cents: int,
    rate: CommissionRate,
) -> Earnings:
    """``taken``: cents refunds took back per line (see :func:`taken_cents`)."""
    goods = sum(int(line["total_cents"]) for line in lines) - sum((taken or {}).values())
    return Earnings(goods, delivery_fee_cents, commission_on(goods, rate))


def prorated(amount_cents: int, part_cents: int, whole_cents: int) -> int:
    """``amount`` scaled by ``part / whole``, rounded half up: a dispute's share of a sub-order."""
    if whole_cents <= 0:
        return 0
    return (2 * amount_cents * part_cents + whole_cents) // (2 * whole_cents)


def split(amount_cents: int, weights: list[int]) -> list[int]:
    """``amount`` split in proportion to ``weights``, cumulatively, so the parts add up to it exactly and
    none exceeds its weight when ``amount`` does not exceed their sum."""
    total = sum(weights)
    if total <= 0:
        return [0 for _ in weights]
    parts, running = [], 0
    for weight in weights:
        before = amount_cents * running // total
        running += weight
        parts.append(amount_cents * running // total - before)
    return parts
