"""The hourly order jobs: cancel pickups nobody collected, and see stalled refunds through.

No-shows: a pickup sub-order gets a sparse gsi3 key when it becomes ready, sorted by when it is due
(ready + the shop's ``no_show_days``), so the job reads only what is overdue. It is cancelled, refunded in
full and restocked like a cancellation, and leaves the index in that same transaction.

Stalled refunds: a refund the provider never answered (pending with an error) is asked again with its own
key; a refund that gave a cancelled order's money back and failed is tried again as a new attempt, up to
AUTO_ATTEMPTS times, an hour apart at least. Both are found by key in the refunds index; what is left stays
listed for the operator (``GET /operator/refunds?status=failed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.core.clock import iso, now, stamp
from chalicelib.core.db import shard_partitions
from chalicelib.core.errors import DomainError
from chalicelib.core.log import logger
from chalicelib.order.lifecycle import Actor
from chalicelib.order.models import RefundItem, SubOrderItem
from chalicelib.order.moves import NO_SHOW_PARTITION, NO_SHOW_SHARDS
from chalicelib.order.refunds import FAILED, PENDING, REFUND_INDEX, request_refund, retry
from chalicelib.order.schemas import RefundIn

AUTO_ATTEMPTS = 3
RETRY_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class NoShowResult:
    order_id: str
    shop_id: str
    outcome: str


def cancel_no_shows(moment: datetime | None = None, limit: int = 100) -> list[NoShowResult]:
    """Cancels, refunds in full and restocks pickup sub-orders still not collected when due. Safe to run
    repeatedly and concurrently: a cancelled sub-order leaves the index in the cancelling transaction, and
    a racing run's conditional write fails. One Query per shard, at most ``limit`` sub-orders from each."""
    cutoff = iso(moment or now())
    results = []
    overdue = (
        sub
        for partition in shard_partitions(NO_SHOW_PARTITION, NO_SHOW_SHARDS)
        for sub in SubOrderItem.gsi3.query(partition, SubOrderItem.gsi3sk < f"{cutoff}~", limit=limit)
    )
    for sub in overdue:
        body = RefundIn(lines=None, restock=True, reason="no_show")
        try:
            refund = request_refund(sub.order_id, sub.shop_id, body, Actor.SYSTEM, require_cancel=True)
            outcome = f"refund_{refund.status}"
        except DomainError as error:
            # Collected or cancelled meanwhile (the index is eventually consistent): nothing to do.
            outcome = f"skipped_{error.code}"
        results.append(NoShowResult(sub.order_id, sub.shop_id, outcome))
    return results


def retry_stalled_refunds(moment: datetime | None = None, limit: int = 50) -> list[tuple[str, str]]:
    """Asks the provider again for refunds left pending by a provider failure or failed while the customer
    is owed the money (a cancellation, a payment after cancellation). Returns (refund id, status)."""
    cutoff = stamp((moment or now()) - RETRY_AFTER)
    results = []
    for status in (PENDING, FAILED):
        partition = REFUND_INDEX.format(status=status)
        for refund in RefundItem.gsi2.query(partition, RefundItem.gsi2sk < cutoff, limit=limit):
            if not isinstance(refund, RefundItem):
                continue
            if status == FAILED and (refund.cancels != "yes" or int(refund.attempt or 0) >= AUTO_ATTEMPTS):
                continue  # the retailer's own refund of some units, or left to the operator now
            try:
                done = retry(refund.order_id, None, refund.refund_id)
                results.append((refund.refund_id, done.status))
            except DomainError as error:
                results.append((refund.refund_id, f"skipped_{error.code}"))
            except Exception:
                logger.exception("refund retry failed", extra={"refund_id": refund.refund_id})
                results.append((refund.refund_id, "error"))
    return results
