"""The mall's commission report for one month: commission earned and returned (per shop and in all) from
the commission movements of each day, and Stripe's processing fees where known. 2 Queries per day of
the month (paginated): an operator's report, read by key, never by Scan."""

from __future__ import annotations

import calendar
import csv
import io
from collections import defaultdict

from chalicelib.core.document import Document
from chalicelib.ledger.models import COMMISSIONS, LedgerEntryItem
from chalicelib.payout.models import ProcessingFeeItem
from chalicelib.payout.schemas import CommissionReport, ReportShop
from chalicelib.payout.statements import euros


def commission_report(month: str) -> CommissionReport:
    year, number = (int(part) for part in month.split("-"))
    earned: dict[str, int] = defaultdict(int)
    returned: dict[str, int] = defaultdict(int)
    fees = orders_with_fees = 0
    for day in range(1, calendar.monthrange(year, number)[1] + 1):
        stamp = f"{month}-{day:02d}"
        for entry in LedgerEntryItem.gsi2.query(COMMISSIONS.format(day=stamp)):
            if not isinstance(entry, LedgerEntryItem):
                continue
            # A commission entry is negative for the shop: what the mall keeps.
            cents = -int(entry.amount_cents)
            if cents >= 0:
                earned[entry.shop_id] += cents
            else:
                returned[entry.shop_id] += -cents
        for fee in ProcessingFeeItem.gsi2.query(f"FEES#{stamp}"):
            if isinstance(fee, ProcessingFeeItem):
                fees += int(fee.amount_cents)
                orders_with_fees += 1
    shops = [
        ReportShop(shop, earned[shop], returned[shop], earned[shop] - returned[shop])
        for shop in sorted(set(earned) | set(returned))
    ]
    total_earned, total_returned = sum(earned.values()), sum(returned.values())
    return CommissionReport(
        month=month,
        currency="EUR",
        commission_earned_cents=total_earned,
        commission_returned_cents=total_returned,
        net_commission_cents=total_earned - total_returned,
        stripe_fees_cents=fees,
        orders_with_known_fees=orders_with_fees,
        shops=shops,
    )


def commission_report_csv(month: str) -> Document:
    report = commission_report(month)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["month", "shop_id", "commission_earned_eur", "commission_returned_eur", "net_eur"])
    for shop in report.shops:
        writer.writerow(
            [
                month,
                shop.shop_id,
                euros(shop.commission_earned_cents),
                euros(shop.commission_returned_cents),
                euros(shop.net_commission_cents),
            ]
        )
    writer.writerow(
        [
            month,
            "total",
            euros(report.commission_earned_cents),
            euros(report.commission_returned_cents),
            euros(report.net_commission_cents),
        ]
    )
    writer.writerow([month, "stripe_fees", "", "", euros(-report.stripe_fees_cents)])
    return Document("text/csv", out.getvalue(), f"commission-{month}.csv")
