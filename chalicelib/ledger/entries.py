"""Ledger postings: the entries a change of a sub-order implies, built here and staged by the caller in
the transaction of that change (so an entry exists exactly when its cause happened).

A shop earns when it hands the goods over (collected or delivered), not when the card is charged: the
hand-over posts the sale (goods left + delivery fee) and the commission on those goods, both available
after the mall's hold (``PAYOUT_HOLD_DAYS``). Before that moment nothing is posted: a refund or a
cancellation before hand-over only lowers what the hand-over will post. After it, a refund posts its debit
and the commission it returns, a failed refund reverses both, a lost dispute debits the shop's share.
Debits count at once; only earnings wait for the hold.

The sub-order keeps the commission charged so far; each posting moves it to the commission on the goods
left, so the entries of a sub-order always add up to its current earnings (chalicelib/ledger/commission.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib.core.clock import iso, stamp
from chalicelib.core.db import MallItem
from chalicelib.ledger.commission import CommissionRate, commission_on, earnings, prorated
from chalicelib.ledger.models import COMMISSIONS, UNSETTLED, LedgerEntryItem

SALE = "sale"
COMMISSION = "commission"
REFUND = "refund"
COMMISSION_RETURN = "commission_return"
REFUND_REVERSAL = "refund_reversal"
DISPUTE = "dispute"
CLAWBACK = "clawback"
_COMMISSION_TYPES = frozenset({COMMISSION, COMMISSION_RETURN})


def hold() -> timedelta:
    """How long earnings wait before they can be paid out: time for late refunds and disputes."""
    return timedelta(days=int(os.environ.get("PAYOUT_HOLD_DAYS", "7")))


@dataclass(frozen=True)
class SubOrderBooks:
    """What the ledger needs of a sub-order (the order domain builds it from its item)."""

    order_id: str
    shop_id: str
    lines: Sequence[Mapping[str, Any]]  # as sold: variant_id, name, quantity, total_cents
    delivery_fee_cents: int
    rate: CommissionRate
    # The commission charged so far; None until the hand-over posted the sale.
    commission_charged_cents: int | None

    @property
    def handed_over(self) -> bool:
        return self.commission_charged_cents is not None


@dataclass(frozen=True)
class Posting:
    entries: tuple[LedgerEntryItem, ...] = ()
    # The sub-order's commission charged after this posting; None = unchanged.
    commission_charged_cents: int | None = None


NOTHING = Posting()


def hand_over(
    books: SubOrderBooks, units: Mapping[str, int], taken: Mapping[str, int], moment: datetime
) -> Posting:
    """The sale and its commission, for the goods left after any refund made before the hand-over
    (``units`` and ``taken``: the units and cents refunds took per line, pending ones included)."""
    due = earnings(books.lines, taken, books.delivery_fee_cents, books.rate)
    available = moment + hold()
    sold = []
    for line in books.lines:
        variant, quantity = line["variant_id"], int(line["quantity"])
        left = quantity - int(units.get(variant, 0))
        if left > 0:
            sold.append(_line(line["name"], left, int(line["total_cents"]) - int(taken.get(variant, 0))))
    if books.delivery_fee_cents:
        sold.append(_line("delivery", 1, books.delivery_fee_cents))
    sale = _entry(books, SALE, due.sale_cents, books.order_id, moment, available, lines=sold)
    commission = _entry(books, COMMISSION, -due.commission_cents, books.order_id, moment, available)
    return Posting((sale, commission) if due.commission_cents else (sale,), due.commission_cents)


def refund(
    books: SubOrderBooks,
    refund_id: str,
    amount_cents: int,
    lines: Sequence[Mapping[str, Any]],
    taken_after: Mapping[str, int],
    moment: datetime,
) -> Posting:
    """After hand-over: the refund's debit and the commission it gives back (``taken_after``: the cents
    refunds took per line, this one included). Before: nothing (the sale the hand-over posts will leave
    those goods out)."""
    if not books.handed_over:
        return NOTHING
    debit = _entry(books, REFUND, -amount_cents, refund_id, moment, moment, lines=[dict(x) for x in lines])
    return _with_commission(books, refund_id, taken_after, moment, (debit,))


def refund_failed(
    books: SubOrderBooks,
    refund_id: str,
    amount_cents: int,
    taken_after: Mapping[str, int],
    moment: datetime,
) -> Posting:
    """The provider failed a refund and its units are the shop's again. Once handed over, its amount was
    left out of the shop's earnings (debited, or never in the sale): put it back, with its commission."""
    if not books.handed_over:
        return NOTHING
    credit = _entry(books, REFUND_REVERSAL, amount_cents, refund_id, moment, moment)
    return _with_commission(books, refund_id, taken_after, moment, (credit,))


def dispute_lost(
    books: SubOrderBooks, dispute_id: str, amount_cents: int, remaining_cents: int, moment: datetime
) -> Posting:
    """A lost dispute takes ``amount`` of this sub-order's ``remaining`` (what the customer still paid for
    it) back; the commission on that part is returned pro rata."""
    if amount_cents <= 0:
        return NOTHING
    debit = _entry(books, DISPUTE, -amount_cents, dispute_id, moment, moment)
    if not books.handed_over:
        return Posting((debit,))
    charged = books.commission_charged_cents or 0
    back = min(charged, prorated(charged, amount_cents, remaining_cents))
    if not back:
        return Posting((debit,))
    returned = _entry(books, COMMISSION_RETURN, back, dispute_id, moment, moment)
    return Posting((debit, returned), charged - back)


def clawback(shop_id: str, source_id: str, amount_cents: int, moment: datetime) -> LedgerEntryItem:
    """Money the mall took back from the shop's Stripe balance (a transfer reversal) against its debt."""
    books = SubOrderBooks("", shop_id, (), 0, CommissionRate(), None)
    return _entry(books, CLAWBACK, amount_cents, source_id, moment, moment, order_id=None)


def stage(tx: TransactWrite, posting: Posting) -> None:
    for entry in posting.entries:
        tx.save(entry, condition=MallItem.pk.does_not_exist())


def _with_commission(
    books: SubOrderBooks,
    source_id: str,
    taken_after: Mapping[str, int],
    moment: datetime,
    entries: tuple[LedgerEntryItem, ...],
) -> Posting:
    charged = books.commission_charged_cents or 0
    goods = earnings(books.lines, taken_after, 0, books.rate).goods_cents
    target = commission_on(goods, books.rate)
    if target == charged:
        return Posting(entries, target)
    kind = COMMISSION_RETURN if target < charged else COMMISSION
    return Posting((*entries, _entry(books, kind, charged - target, source_id, moment, moment)), target)


def _line(name: str, quantity: int, amount_cents: int) -> dict[str, Any]:
    return {"name": name, "quantity": quantity, "amount_cents": amount_cents}


def _entry(
    books: SubOrderBooks,
    entry_type: str,
    amount_cents: int,
    source_id: str,
    moment: datetime,
    available: datetime,
    *,
    lines: list[dict[str, Any]] | None = None,
    order_id: str | None = "",
) -> LedgerEntryItem:
    sk = f"{stamp(moment)}#{entry_type}#{source_id}"
    available_at = stamp(available)
    entry = LedgerEntryItem(
        f"LEDGER#{books.shop_id}",
        sk,
        shop_id=books.shop_id,
        entry_type=entry_type,
        amount_cents=amount_cents,
        order_id=books.order_id if order_id == "" else order_id,
        source_id=source_id,
        at=iso(moment),
        available_at=available_at,
        lines=lines,
        gsi1pk=UNSETTLED.format(shop=books.shop_id),
        gsi1sk=f"{available_at}#{sk}",
    )
    if entry_type in _COMMISSION_TYPES:
        entry.rate_bps, entry.fixed_fee_cents = books.rate.rate_bps, books.rate.fixed_fee_cents
        entry.gsi2pk = COMMISSIONS.format(day=entry.at[:10])
        entry.gsi2sk = f"{sk}#{books.shop_id}"
    return entry
