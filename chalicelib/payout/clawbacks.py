"""Clawbacks: a refund (or a lost dispute) after the shop was paid for that order leaves the shop owing
the mall. The rule (README, "Payouts"):

1. The debt is netted against the shop's next earnings: every payout claims the available debts first.
2. If a run finds a debt and nothing on hold or under dispute to net it against, the mall reverses the
   amount from a transfer whose money is still on the shop's Stripe balance: a payout waiting for its
   bank payout, or one the bank sent back (Stripe refuses to reverse what already left for the bank,
   and the mall pays each transfer out to the bank at once, so most debts are netted). That payout's
   bank payout then carries only what was not reversed.
3. What cannot be netted or reversed stays as a negative balance, carried forward to the next run: never
   dropped.

A reversal is recorded pending before Stripe is asked (with a key derived from the payout and the
reversal's number, so a retry after a crash reverses once), guarded on the shop's account like a payout,
and on success posts a ``clawback`` entry that cancels that much of the debt.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import TransactWriteError

from chalicelib.core.clock import iso, stamp
from chalicelib.core.db import MallItem, transaction
from chalicelib.ledger import entries as ledger
from chalicelib.ledger.models import LedgerEntryItem
from chalicelib.payment import gateway as provider
from chalicelib.payment.gateway import PaymentProviderFailed
from chalicelib.payout.models import (
    RETURNED,
    TRANSFERRED,
    PayoutAccountItem,
    PayoutItem,
    ReversalItem,
)
from chalicelib.payout.transitions import load_payout

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
# Their money is still on the shop's Stripe balance.
_REVERSIBLE = frozenset({TRANSFERRED, RETURNED})
_CANDIDATES = 20


def claw_back(account: PayoutAccountItem, debt_cents: int, moment: datetime) -> LedgerEntryItem | None:
    """Reverses up to ``debt_cents`` from the shop's newest transfer that still has money; returns the
    clawback entry, or None when nothing could be taken back (the debt is carried forward)."""
    for payout in PayoutItem.gsi2.query(
        f"SHOP#{account.shop_id}#PAYOUTS", scan_index_forward=False, limit=_CANDIDATES
    ):
        if not isinstance(payout, PayoutItem) or payout.status not in _REVERSIBLE or not payout.transfer_id:
            continue
        left = payout.net_cents
        if left <= 0:
            continue
        reversal = _record(account, payout, min(debt_cents, left), moment)
        return None if reversal is None else _reverse(payout, reversal, moment)
    return None


def resume(account: PayoutAccountItem, moment: datetime) -> LedgerEntryItem | None:
    """A reversal left pending by a crash or an unanswered call: asked again with the same key."""
    assert account.open_reversal is not None
    payout_id, seq = account.open_reversal.rsplit("#", 1)
    try:
        reversal = ReversalItem.get(*ReversalItem.key_for(payout_id, int(seq)), consistent_read=True)
    except ReversalItem.DoesNotExist:
        reversal = None
    if reversal is None or reversal.status != PENDING:
        PayoutAccountItem(*PayoutAccountItem.key_for(account.shop_id)).update(
            actions=[PayoutAccountItem.open_reversal.remove()],
            condition=PayoutAccountItem.open_reversal == account.open_reversal,
        )
        return None
    return _reverse(load_payout(payout_id), reversal, moment)


def _record(
    account: PayoutAccountItem, payout: PayoutItem, amount: int, moment: datetime
) -> ReversalItem | None:
    seq = int(payout.reversal_seq or 0) + 1
    at = stamp(moment)
    reversal = ReversalItem(
        *ReversalItem.key_for(payout.payout_id, seq),
        payout_id=payout.payout_id,
        shop_id=payout.shop_id,
        seq=seq,
        amount_cents=amount,
        status=PENDING,
        created_at=at,
        updated_at=at,
    )
    try:
        with transaction() as tx:
            tx.save(reversal, condition=MallItem.pk.does_not_exist())
            tx.update(
                payout,
                actions=[PayoutItem.reversed_cents.add(amount), PayoutItem.reversal_seq.set(seq)],
                condition=PayoutItem.reversal_seq == int(payout.reversal_seq or 0),
            )
            tx.update(
                account,
                actions=[PayoutAccountItem.open_reversal.set(f"{payout.payout_id}#{seq}")],
                condition=PayoutAccountItem.open_reversal.does_not_exist(),
            )
    except TransactWriteError:
        return None  # another run is reversing for this shop: it carries on, this one does not
    return reversal


def _reverse(payout: PayoutItem, reversal: ReversalItem, moment: datetime) -> LedgerEntryItem | None:
    assert payout.transfer_id is not None
    amount = int(reversal.amount_cents)
    try:
        done = provider.gateway().reverse_transfer(
            payout.transfer_id,
            amount_cents=amount,
            metadata={"payout_id": payout.payout_id, "shop_id": payout.shop_id, "reason": "clawback"},
            idempotency_key=f"reversal:{payout.payout_id}:{int(reversal.seq)}",
        )
    except PaymentProviderFailed as error:
        if not error.refused:
            raise  # unknown: the reversal stays pending and the next run asks again with its key
        _settle(payout, reversal, FAILED, moment, failure=error.reason)
        return None
    entry = ledger.clawback(payout.shop_id, f"{payout.payout_id}:{int(reversal.seq)}", amount, moment)
    _settle(payout, reversal, SUCCEEDED, moment, stripe_id=done.id, entry=entry)
    return entry


def _settle(
    payout: PayoutItem,
    reversal: ReversalItem,
    outcome: str,
    moment: datetime,
    *,
    stripe_id: str | None = None,
    failure: str | None = None,
    entry: LedgerEntryItem | None = None,
) -> None:
    actions = [ReversalItem.status.set(outcome), ReversalItem.updated_at.set(stamp(moment))]
    if stripe_id:
        actions.append(ReversalItem.stripe_reversal_id.set(stripe_id))
    if failure:
        actions.append(ReversalItem.failure_code.set(failure))
    with transaction() as tx:
        tx.update(reversal, actions=actions, condition=ReversalItem.status == PENDING)
        released = [PayoutAccountItem.open_reversal.remove(), PayoutAccountItem.updated_at.set(iso(moment))]
        if outcome == SUCCEEDED:
            # That money no longer goes to the bank: it settled the debt.
            released.append(PayoutAccountItem.in_transit_cents.add(-int(reversal.amount_cents)))
        tx.update(
            PayoutAccountItem(*PayoutAccountItem.key_for(payout.shop_id)),
            actions=released,
            condition=PayoutAccountItem.open_reversal == f"{payout.payout_id}#{int(reversal.seq)}",
        )
        if outcome == FAILED:
            # Nothing was taken back: the payout's reversible amount is whole again.
            tx.update(payout, actions=[PayoutItem.reversed_cents.add(-int(reversal.amount_cents))])
        if entry is not None:
            tx.save(entry, condition=MallItem.pk.does_not_exist())
