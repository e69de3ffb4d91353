"""Payouts as shops and the operator read them: lists by key, and a payout's statement (every entry it
paid: each order's lines, sale, commission, refunds, clawbacks, and the net), as JSON or CSV."""

from __future__ import annotations

import csv
import io

from chalicelib.core.db import MallItem, query_page
from chalicelib.core.document import Document
from chalicelib.ledger.models import LedgerEntryItem
from chalicelib.payout.errors import PayoutNotFound
from chalicelib.payout.models import PayoutItem
from chalicelib.payout.schemas import (
    OperatorPayoutQuery,
    Payout,
    PayoutListQuery,
    PayoutPage,
    Statement,
    StatementEntry,
    StatementLine,
    StatementTotals,
)
from chalicelib.payout.transitions import load_payout

_BATCH = 100  # BatchGetItem's limit
# Within one moment, a sale reads before its commission, a refund before the commission it returns.
_ORDER = ("sale", "commission", "refund", "commission_return", "refund_reversal", "dispute", "clawback")


def shop_payouts(shop_id: str, query: PayoutListQuery) -> PayoutPage:
    items, cursor = query_page(
        PayoutItem,
        f"SHOP#{shop_id}#PAYOUTS",
        index="gsi2",
        limit=query.limit,
        cursor=query.cursor,
        forward=False,
    )
    return PayoutPage([payout_view(p) for p in items], cursor)


def operator_payouts(query: OperatorPayoutQuery) -> PayoutPage:
    items, cursor = query_page(
        PayoutItem,
        f"PAYOUTS#{query.status}",
        index="gsi1",
        limit=query.limit,
        cursor=query.cursor,
        forward=False,
    )
    return PayoutPage([payout_view(p) for p in items], cursor)


def own_payout(shop_id: str | None, payout_id: str) -> PayoutItem:
    """The payout if it is this shop's (None: the operator's, any shop's); another shop's is not found."""
    payout = load_payout(payout_id)
    if shop_id is not None and payout.shop_id != shop_id:
        raise PayoutNotFound(payout_id)
    return payout


def statement(payout: PayoutItem) -> Statement:
    entries = sorted(_entries(payout), key=lambda e: (e.sk.split("#", 1)[0], _ORDER.index(e.entry_type)))
    lines = [
        StatementEntry(
            at=e.at,
            type=e.entry_type,
            order_id=e.order_id,
            amount_cents=int(e.amount_cents),
            lines=[
                StatementLine(x["name"], int(x["quantity"]), int(x["amount_cents"])) for x in e.lines or []
            ],
            rate_bps=None if e.rate_bps is None else int(e.rate_bps),
        )
        for e in entries
    ]

    def total(*types: str) -> int:
        return sum(line.amount_cents for line in lines if line.type in types)

    totals = StatementTotals(
        sales_cents=total("sale"),
        commission_cents=total("commission", "commission_return"),
        refunds_cents=total("refund", "refund_reversal"),
        disputes_cents=total("dispute"),
        clawbacks_cents=total("clawback"),
        net_cents=sum(line.amount_cents for line in lines),
    )
    return Statement(payout_view(payout), lines, totals)


def statement_csv(payout: PayoutItem) -> Document:
    """One row per entry, and one per order line under its sale or refund, amounts in euros (for a
    spreadsheet or the shop's accountant)."""
    report = statement(payout)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["date", "type", "order_id", "item", "quantity", "amount_eur"])
    for entry in report.entries:
        writer.writerow([entry.at, entry.type, entry.order_id or "", "", "", euros(entry.amount_cents)])
        for line in entry.lines:
            writer.writerow(
                [
                    entry.at,
                    f"{entry.type}_line",
                    entry.order_id or "",
                    line.name,
                    line.quantity,
                    euros(line.amount_cents),
                ]
            )
    writer.writerow([report.payout.created_at, "net", "", "", "", euros(report.totals.net_cents)])
    return Document("text/csv", out.getvalue(), f"{payout.payout_id}.csv")


def euros(cents: int) -> str:
    """12345 -> "123.45", -5 -> "-0.05": integer arithmetic, no float ever touches money."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _entries(payout: PayoutItem) -> list[LedgerEntryItem]:
    keys = [(f"LEDGER#{payout.shop_id}", sk) for sk in payout.entry_sks]
    found: list[LedgerEntryItem] = []
    for start in range(0, len(keys), _BATCH):
        found += [
            item
            for item in MallItem.batch_get(keys[start : start + _BATCH], consistent_read=True)
            if isinstance(item, LedgerEntryItem)
        ]
    return found


def payout_view(payout: PayoutItem) -> Payout:
    return Payout(
        id=payout.payout_id,
        shop_id=payout.shop_id,
        status=payout.status,
        amount_cents=int(payout.amount_cents),
        currency=payout.currency,
        entries=len(payout.entry_sks),
        requested_by=payout.requested_by,
        transfer_id=payout.transfer_id,
        bank_payout_id=payout.bank_payout_id,
        failure_code=payout.failure_code,
        last_error=payout.last_error,
        reversed_cents=int(payout.reversed_cents or 0),
        created_at=payout.created_at,
        updated_at=payout.updated_at,
        paid_at=payout.paid_at,
    )
