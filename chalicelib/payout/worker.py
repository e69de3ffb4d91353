"""The payout worker: pays one shop. Run for each shop the daily sweep found due (one SQS message per
shop), and by an operator's or retailer's "pay now".

For a shop it: (1) finishes any payout or reversal left unfinished (a crash, an unanswered call) with the
same idempotency keys; (2) if the shop can be paid (Stripe account active, not paused), claims its
available entries into a payout (chalicelib/payout/transitions.py) and moves the money: one Stripe
Transfer of the payout's amount to the shop's connected account (key ``payout:<payout id>``), then one
bank payout of it on that account (key ``bank-payout:<payout id>[:<attempt>]``); (3) claws back a debt
that nothing can be netted against (chalicelib/payout/clawbacks.py); (4) moves its next due date.

A refused transfer fails the payout and frees its entries; an unknown outcome keeps the payout as it is
and raises PaymentProviderFailed, so the queue redelivers the message (or the operator retries) and the
same key is sent again: Stripe moves the money once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pynamodb.exceptions import UpdateError

from chalicelib.core.clock import now, stamp
from chalicelib.core.log import logger
from chalicelib.ledger.models import LedgerEntryItem
from chalicelib.ledger.queries import unsettled
from chalicelib.payment import gateway as provider
from chalicelib.payment.gateway import PaymentProviderFailed
from chalicelib.payout import clawbacks, transitions
from chalicelib.payout.accounts import due_actions, load_account, mall_today, payable, schedule_of
from chalicelib.payout.errors import NothingToPayOut, PayoutNotRetryable
from chalicelib.payout.models import CLAIMED, FAILED, RETURNED, TRANSFERRED, PayoutAccountItem, PayoutItem
from chalicelib.payout.rules import MINIMUM_PAYOUT_CENTS, Entry, buckets, next_payout_date, plan_payout

# A shop with more available entries than one payout holds gets several payouts in one run; bounded so a
# run stays well inside the Lambda's time and Stripe's write rate.
MAX_PAYOUTS_PER_RUN = 5


@dataclass
class ShopRun:
    shop_id: str
    outcome: str
    payouts: list[PayoutItem] = field(default_factory=list)


def entry_of(item: LedgerEntryItem) -> Entry:
    return Entry(item.sk, int(item.amount_cents), item.order_id, item.available_at)


def process_shop(
    shop_id: str,
    requested_by: str = "schedule",
    *,
    moment: datetime | None = None,
    available_by: datetime | None = None,
) -> ShopRun:
    """Pays what the shop can be paid now. ``available_by``: the cutoff for entries to be available
    (defaults to now; the local "run the sweep as of" tool moves it)."""
    moment = moment or now()
    cutoff = stamp(available_by or moment)
    account = load_account(shop_id)
    if account is None:
        return ShopRun(shop_id, "no_account")
    run = ShopRun(shop_id, "nothing_to_pay")
    if account.open_payout_id:
        run.payouts.append(advance(transitions.load_payout(account.open_payout_id), account, moment))
        account = _reload(shop_id)
        if account.open_payout_id:
            return _finish(account, requested_by, run, "waiting_for_bank")
    if account.open_reversal:
        clawbacks.resume(account, moment)
        account = _reload(shop_id)
    if not payable(account):
        return _finish(account, requested_by, run, "not_payable")
    held = set(account.held_orders or ())
    remaining = [entry_of(item) for item in unsettled(shop_id)]
    # A debt nothing can be netted against is taken back first, from money still on the shop's Stripe
    # balance (a payout the bank sent back); what is left of that payout then goes to the bank.
    owed = buckets(remaining, held, cutoff)
    if owed.available_cents < 0 and owed.on_hold_cents <= 0 and owed.disputed_cents <= 0:
        entry = clawbacks.claw_back(account, -owed.available_cents, moment)
        run.outcome = "debt_carried_forward" if entry is None else "clawed_back"
        if entry is not None:
            remaining.append(entry_of(entry))
        account = _reload(shop_id)
    for returned_id in sorted(account.returned_payout_ids or ()):
        run.payouts.append(advance(transitions.load_payout(returned_id), account, moment))
    for _ in range(MAX_PAYOUTS_PER_RUN):
        plan = plan_payout(remaining, held, cutoff)
        if plan is None:
            break
        payout = advance(transitions.claim(_reload(shop_id), plan, requested_by, moment), account, moment)
        run.payouts.append(payout)
        run.outcome = (
            "transfer_refused" if payout.status == FAILED else "paid" if plan.amount_cents else "netted"
        )
        taken = {entry.sk for entry in plan.entries}
        remaining = [entry for entry in remaining if entry.sk not in taken]
        if payout.status in (CLAIMED, TRANSFERRED):
            return _finish(_reload(shop_id), requested_by, run, "waiting_for_bank")
    return _finish(_reload(shop_id), requested_by, run, run.outcome)


def advance(payout: PayoutItem, account: PayoutAccountItem, moment: datetime) -> PayoutItem:
    """Takes the payout as far as the provider lets it now: transfer, then bank payout."""
    if payout.status == CLAIMED:
        payout = _transfer(payout, moment)
    if payout.status in (TRANSFERRED, RETURNED) and payable(account):
        payout = _bank_payout(payout, moment)
    return payout


def _transfer(payout: PayoutItem, moment: datetime) -> PayoutItem:
    assert payout.destination is not None
    try:
        transfer = provider.gateway().create_transfer(
            amount_cents=int(payout.amount_cents),
            currency=payout.currency,
            destination=payout.destination,
            metadata={"payout_id": payout.payout_id, "shop_id": payout.shop_id},
            idempotency_key=f"payout:{payout.payout_id}",
        )
    except PaymentProviderFailed as error:
        if error.refused:
            logger.warning(
                "payout transfer refused", extra={"payout_id": payout.payout_id, "reason": error.reason}
            )
            return transitions.fail(payout, error.reason or "transfer_refused", moment)
        transitions.note_error(payout, error.reason, moment)
        raise
    return transitions.mark_transferred(payout, transfer.id, moment)


def _bank_payout(payout: PayoutItem, moment: datetime) -> PayoutItem:
    """The bank payout of what is left of the payout (a clawback may have taken some of it back)."""
    assert payout.destination is not None
    if payout.net_cents <= 0:
        return transitions.mark_reversed(payout, moment)
    attempt = int(payout.bank_attempt or 0)
    key = f"bank-payout:{payout.payout_id}" + (f":{attempt}" if attempt else "")
    try:
        bank = provider.gateway().create_bank_payout(
            payout.destination,
            amount_cents=payout.net_cents,
            currency=payout.currency,
            metadata={"payout_id": payout.payout_id, "shop_id": payout.shop_id},
            idempotency_key=key,
        )
    except PaymentProviderFailed as error:
        # The money is on the shop's Stripe balance either way: it waits for the next run.
        transitions.note_error(payout, error.reason, moment)
        if error.refused:
            return transitions.load_payout(payout.payout_id)
        raise
    return transitions.mark_in_transit(payout, bank.id, moment)


def retry(payout_id: str) -> ShopRun:
    """The operator asks again for a payout still moving money (same keys)."""
    payout = transitions.load_payout(payout_id)
    if payout.status not in (CLAIMED, TRANSFERRED, RETURNED):
        raise PayoutNotRetryable(payout_id, payout.status)
    return process_shop(payout.shop_id, "operator")


def pay_now(shop_id: str, requested_by: str) -> ShopRun:
    """An operator's or retailer's "pay now": the same run as the schedule's, without moving the
    schedule. A run that pays nothing is a NothingToPayOut (with what is available and why)."""
    run = process_shop(shop_id, requested_by)
    if not run.payouts:
        account = load_account(shop_id)
        held = set(account.held_orders or ()) if account else set()
        owed = buckets([entry_of(e) for e in unsettled(shop_id)], held, stamp(now()))
        reason = "below_minimum" if run.outcome == "nothing_to_pay" else run.outcome
        raise NothingToPayOut(max(0, owed.available_cents), MINIMUM_PAYOUT_CENTS, reason)
    return run


def _reload(shop_id: str) -> PayoutAccountItem:
    account = load_account(shop_id)
    assert account is not None
    return account


def _finish(account: PayoutAccountItem, requested_by: str, run: ShopRun, outcome: str) -> ShopRun:
    """A scheduled run moves the shop's due date to its next payout day (or out of the index when it
    cannot be paid: it comes back when it can)."""
    run.outcome = outcome
    if requested_by == "schedule":
        due = next_payout_date(schedule_of(account), mall_today()) if payable(account) else None
        try:
            account.update(
                actions=due_actions(account, due), condition=PayoutAccountItem.interval == account.interval
            )
        except UpdateError as error:
            # The retailer changed the schedule meanwhile: its change set the next date.
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
    return run
