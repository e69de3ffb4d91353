"""Every change of a payout, each one DynamoDB transaction conditional on the state it leaves, with the
counters and events it implies. The worker (chalicelib/payout/worker.py) and the Connect webhook call
these; nothing else writes a payout.

    claimed ──transfer──▶ transferred ──bank payout──▶ in_transit ──payout.paid──▶ paid
       │                       ▲                            │                       │
       └─ refused ─▶ failed    └──── returned ◀── payout.failed (the bank sent it back) ─┘

The claim takes the shop's entries in ONE transaction with the payout and the shop's guard
(``open_payout_id``, set only when absent), each entry conditional on still being unsettled: two sweeps,
a redelivered message or an operator's "pay now" racing the schedule can never settle an entry twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.core import metrics
from chalicelib.core.clock import iso, stamp
from chalicelib.core.db import MallItem, transaction
from chalicelib.core.ids import new_id
from chalicelib.ledger.models import UNSETTLED, LedgerEntryItem
from chalicelib.order.events import payout_event
from chalicelib.payout.errors import PayoutInProgress, PayoutNotFound
from chalicelib.payout.models import (
    CLAIMED,
    FAILED,
    IN_TRANSIT,
    NETTED,
    PAID,
    RETURNED,
    REVERSED,
    TRANSFERRED,
    PayoutAccountItem,
    PayoutItem,
)
from chalicelib.payout.rules import PayoutPlan

_RACE_CODES = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


def load_payout(payout_id: str) -> PayoutItem:
    try:
        return PayoutItem.get(*PayoutItem.key_for(payout_id), consistent_read=True)
    except PayoutItem.DoesNotExist:
        raise PayoutNotFound(payout_id) from None


def _lost_race(error: TransactWriteError) -> bool:
    reasons = {reason.code for reason in error.cancellation_reasons if reason is not None}
    return error.cause_response_code == "TransactionCanceledException" and reasons <= _RACE_CODES


def claim(account: PayoutAccountItem, plan: PayoutPlan, requested_by: str, moment: datetime) -> PayoutItem:
    """The payout item, the shop's guard and every planned entry, in one transaction. Raises
    PayoutInProgress when another payout of the shop holds the guard or took an entry first."""
    at = stamp(moment)
    payout = PayoutItem(
        *PayoutItem.key_for(new_id("payout")),
        shop_id=account.shop_id,
        status=CLAIMED if plan.amount_cents else NETTED,
        amount_cents=plan.amount_cents,
        entry_sks=[entry.sk for entry in plan.entries],
        requested_by=requested_by,
        destination=account.stripe_account_id,
        created_at=at,
        updated_at=at,
    )
    payout.payout_id = payout.pk.removeprefix("PAYOUT#")
    if payout.status == NETTED:
        payout.paid_at = at
    payout.index()
    guard: list[Any] = [PayoutAccountItem.updated_at.set(at)]
    if plan.amount_cents:
        guard += [
            PayoutAccountItem.open_payout_id.set(payout.payout_id),
            PayoutAccountItem.in_transit_cents.add(plan.amount_cents),
        ]
    unsettled = UNSETTLED.format(shop=account.shop_id)
    try:
        with transaction() as tx:
            tx.save(payout, condition=MallItem.pk.does_not_exist())
            tx.update(account, actions=guard, condition=PayoutAccountItem.open_payout_id.does_not_exist())
            for entry in plan.entries:
                tx.update(
                    LedgerEntryItem(f"LEDGER#{account.shop_id}", entry.sk),
                    actions=[
                        LedgerEntryItem.payout_id.set(payout.payout_id),
                        LedgerEntryItem.gsi1pk.remove(),
                        LedgerEntryItem.gsi1sk.remove(),
                    ],
                    condition=LedgerEntryItem.gsi1pk == unsettled,
                )
    except TransactWriteError as error:
        if _lost_race(error):
            raise PayoutInProgress(account.open_payout_id) from None
        raise
    return payout


def mark_transferred(payout: PayoutItem, transfer_id: str, moment: datetime) -> PayoutItem:
    return _move(payout, TRANSFERRED, moment, {"transfer_id": transfer_id})


def mark_in_transit(payout: PayoutItem, bank_payout_id: str, moment: datetime) -> PayoutItem:
    """The bank payout exists: the shop's guard is released, so its next payout can be claimed."""
    account = PayoutAccountItem(*PayoutAccountItem.key_for(payout.shop_id))
    if payout.status == RETURNED:
        released: list[Any] = [PayoutAccountItem.returned_payout_ids.delete({payout.payout_id})]
        condition = None
    else:
        released = [PayoutAccountItem.open_payout_id.remove()]
        condition = PayoutAccountItem.open_payout_id == payout.payout_id

    def stage(tx: Any) -> None:
        tx.update(
            account, actions=[*released, PayoutAccountItem.updated_at.set(iso(moment))], condition=condition
        )

    return _move(payout, IN_TRANSIT, moment, {"bank_payout_id": bank_payout_id}, also=stage)


def fail(payout: PayoutItem, reason: str, moment: datetime) -> PayoutItem:
    """Stripe refused the transfer: nothing moved. The payout is failed with the reason, its entries are
    claimable again (the next payout, with its own key, pays them) and the guard is released."""
    entries = [
        entry
        for entry in LedgerEntryItem.batch_get(
            [(f"LEDGER#{payout.shop_id}", sk) for sk in payout.entry_sks], consistent_read=True
        )
        if isinstance(entry, LedgerEntryItem)
    ]
    unsettled = UNSETTLED.format(shop=payout.shop_id)

    def stage(tx: Any) -> None:
        for entry in entries:
            tx.update(
                entry,
                actions=[
                    LedgerEntryItem.payout_id.remove(),
                    LedgerEntryItem.gsi1pk.set(unsettled),
                    LedgerEntryItem.gsi1sk.set(f"{entry.available_at}#{entry.sk}"),
                ],
                condition=LedgerEntryItem.payout_id == payout.payout_id,
            )
        tx.update(
            PayoutAccountItem(*PayoutAccountItem.key_for(payout.shop_id)),
            actions=[
                PayoutAccountItem.open_payout_id.remove(),
                PayoutAccountItem.in_transit_cents.add(-int(payout.amount_cents)),
                PayoutAccountItem.updated_at.set(iso(moment)),
            ],
            condition=PayoutAccountItem.open_payout_id == payout.payout_id,
        )
        tx.save(_event(payout, "payout.failed", FAILED, moment), condition=MallItem.pk.does_not_exist())

    return _move(payout, FAILED, moment, {"failure_code": reason}, also=stage)


def mark_reversed(payout: PayoutItem, moment: datetime) -> PayoutItem:
    """Everything the payout moved was taken back against a debt: no bank payout is left to make."""

    actions: list[Any] = [
        PayoutAccountItem.returned_payout_ids.delete({payout.payout_id}),
        PayoutAccountItem.updated_at.set(iso(moment)),
    ]
    condition = None
    if payout.status == TRANSFERRED:
        actions.append(PayoutAccountItem.open_payout_id.remove())
        condition = PayoutAccountItem.open_payout_id == payout.payout_id

    def stage(tx: Any) -> None:
        tx.update(
            PayoutAccountItem(*PayoutAccountItem.key_for(payout.shop_id)),
            actions=actions,
            condition=condition,
        )

    return _move(payout, REVERSED, moment, {}, also=stage)


def mark_paid(payout: PayoutItem, moment: datetime, record: Any = None) -> PayoutItem:
    """payout.paid: the money reached the bank (what was not reversed)."""
    amount = payout.net_cents

    def stage(tx: Any) -> None:
        tx.update(
            PayoutAccountItem(*PayoutAccountItem.key_for(payout.shop_id)),
            actions=[
                PayoutAccountItem.in_transit_cents.add(-amount),
                PayoutAccountItem.paid_out_cents.add(amount),
            ],
        )
        tx.save(_event(payout, "payout.paid", PAID, moment), condition=MallItem.pk.does_not_exist())
        _record(tx, record, PAID)

    return _move(payout, PAID, moment, {"paid_at": stamp(moment)}, also=stage)


def mark_returned(
    payout: PayoutItem, failure_code: str | None, moment: datetime, record: Any = None
) -> PayoutItem:
    """payout.failed: the bank sent the money back to the shop's Stripe balance; the failure wins even
    after payout.paid. It waits there until the next run makes a new bank payout (a new attempt key)."""
    amount = payout.net_cents
    was_paid = payout.status == PAID

    def stage(tx: Any) -> None:
        counters = [PayoutAccountItem.returned_payout_ids.add({payout.payout_id})]
        if was_paid:
            counters += [
                PayoutAccountItem.paid_out_cents.add(-amount),
                PayoutAccountItem.in_transit_cents.add(amount),
            ]
        tx.update(PayoutAccountItem(*PayoutAccountItem.key_for(payout.shop_id)), actions=counters)
        tx.save(_event(payout, "payout.failed", RETURNED, moment), condition=MallItem.pk.does_not_exist())
        _record(tx, record, RETURNED)

    changes = {
        "failure_code": failure_code or "returned_by_bank",
        "bank_attempt": int(payout.bank_attempt or 0) + 1,
        "paid_at": None,
    }
    return _move(payout, RETURNED, moment, changes, also=stage)


def note_error(payout: PayoutItem, reason: str | None, moment: datetime) -> None:
    """A provider call whose outcome is unknown: the payout keeps its state (and its keys) for a retry.
    Noted only while the payout is as read: a concurrent run (a redelivered message, a pay-now) may have
    made the same call with the same key and moved it on meanwhile, and its state stands."""
    try:
        payout.update(
            actions=[
                PayoutItem.last_error.set(reason or "provider_unavailable"),
                PayoutItem.updated_at.set(stamp(moment)),
            ],
            condition=PayoutItem.status == payout.status,
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def _move(
    payout: PayoutItem, to: str, moment: datetime, changes: dict[str, Any], also: Any = None
) -> PayoutItem:
    """One transaction: the payout from its status as read to ``to`` (its status index too) with
    ``changes`` (attribute -> value, None removes it), plus what ``also`` stages. Returns the payout as
    written; when it lost a race, as it is now (whoever won moved it: compare its status)."""
    before = payout.status
    changes = {
        "status": to,
        "gsi1pk": f"PAYOUTS#{to}",
        "updated_at": stamp(moment),
        "last_error": None,
        **changes,
    }
    actions = [
        getattr(PayoutItem, name).set(value) if value is not None else getattr(PayoutItem, name).remove()
        for name, value in changes.items()
    ]
    try:
        with transaction() as tx:
            tx.update(payout, actions=actions, condition=PayoutItem.status == before)
            if also is not None:
                also(tx)
    except TransactWriteError as error:
        if _lost_race(error):
            return load_payout(payout.payout_id)
        raise
    for name, value in changes.items():
        setattr(payout, name, value)
    _count(payout, to)
    return payout


def _count(payout: PayoutItem, to: str) -> None:
    """The payout metrics (README, "Observability"), once per move: only the run that made it gets here.
    A payout is counted when its money reaches the shop's Stripe account (its transfer, made once); a
    refused transfer and a bank payout sent back are failures."""
    if to == TRANSFERRED:
        metrics.count("Payouts")
        metrics.cents("PayoutCents", int(payout.amount_cents))
    elif to in (FAILED, RETURNED):
        metrics.count("PayoutFailures")


def _event(payout: PayoutItem, event_type: str, to: str, moment: datetime) -> Any:
    return payout_event(
        event_type,
        shop_id=payout.shop_id,
        payout_id=payout.payout_id,
        amount_cents=payout.net_cents,  # what reaches (or reached) the bank, after any clawback
        from_status=payout.status,
        to_status=to,
        moment=moment,
    )


def _record(tx: Any, record: Any, outcome: str) -> None:
    if record is not None:
        from chalicelib.payment.models import ProcessedEvent

        tx.save(record.item(outcome), condition=ProcessedEvent.pk.does_not_exist())
