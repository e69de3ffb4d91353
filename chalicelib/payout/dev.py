"""Local runs only: the payout sweep on demand, each due shop paid at once instead of through the queue,
optionally as if some days had passed (due dates and the mall's hold), so a tour can show a whole payout
without waiting a week. Records keep their real times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from chalicelib.core.clock import now
from chalicelib.payout.schemas import ShopPayoutRun, SweepRun
from chalicelib.payout.statements import payout_view
from chalicelib.payout.sweep import Message, sweep


def run_sweep_now(days_ahead: int = 0) -> SweepRun:
    from chalicelib.payout.worker import process_shop

    later = now() + timedelta(days=days_ahead)
    runs: list[ShopPayoutRun] = []

    def pay(batch: Sequence[Message]) -> None:
        for message in batch:
            run = process_shop(message["shop_id"], "schedule", available_by=later)
            runs.append(ShopPayoutRun(run.shop_id, run.outcome, [payout_view(p) for p in run.payouts]))

    result = sweep(later, pay)
    return SweepRun(result.shops_due, runs)
