"""Events of the shops' connected accounts (Stripe's Connect webhook, its own endpoint and secret):
account changes and bank payouts. Each applied once (its id recorded in the transaction of its effect);
out-of-order deliveries are harmless because the current state is read again from Stripe rather than
taken from the event's snapshot.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.clock import now
from chalicelib.order.service import EventRecord, record_only
from chalicelib.payment import gateway as provider
from chalicelib.payment.models import ProcessedEvent
from chalicelib.payment.webhooks import MalformedEvent, event_object, text
from chalicelib.payout import transitions
from chalicelib.payout.accounts import apply_account_event
from chalicelib.payout.errors import PayoutNotFound
from chalicelib.payout.models import IN_TRANSIT, PAID, ConnectAccountLookup

ACCOUNT_EVENTS = ("account.updated", "capability.updated", "account.application.deauthorized")
PAYOUT_EVENTS = ("payout.paid", "payout.failed")
CONNECT_EVENTS = ACCOUNT_EVENTS + PAYOUT_EVENTS


def connect_event(event: dict[str, Any]) -> str:
    kind = event["type"]
    if kind not in CONNECT_EVENTS:
        return "ignored_event_type"
    account_id = text(event.get("account"))
    if not account_id:
        raise MalformedEvent("account")
    record = EventRecord(str(event["id"]), kind)
    if _seen(record):
        return "duplicate"
    if kind in ACCOUNT_EVENTS:
        return apply_account_event(account_id, kind, record)
    return _bank_payout_event(account_id, event_object(event), record)


def _seen(record: EventRecord) -> bool:
    try:
        ProcessedEvent.get(*ProcessedEvent.key_for(record.event_id), consistent_read=True)
    except ProcessedEvent.DoesNotExist:
        return False
    return True


def _bank_payout_event(account_id: str, bank: dict[str, Any], record: EventRecord) -> str:
    """payout.paid / payout.failed of a bank payout the mall made: its metadata names our payout. The
    bank payout is read again: a failure wins, even after payout.paid (the bank returned the money)."""
    metadata = bank.get("metadata")
    payout_id = text(metadata.get("payout_id")) if isinstance(metadata, dict) else None
    bank_id = text(bank.get("id"))
    if not bank_id:
        raise MalformedEvent("data.object.id")
    if not payout_id:
        return record_only(record, "ignored_no_payout")
    try:
        lookup = ConnectAccountLookup.get(*ConnectAccountLookup.key_for(account_id), consistent_read=True)
        payout = transitions.load_payout(payout_id)
    except (ConnectAccountLookup.DoesNotExist, PayoutNotFound):
        return record_only(record, "ignored_unknown_payout")
    if payout.shop_id != lookup.shop_id or payout.bank_payout_id != bank_id:
        return record_only(record, "ignored_other_bank_payout")  # another shop's, or an older attempt
    current = provider.gateway().retrieve_bank_payout(account_id, bank_id)
    moment = now()
    if current.status == "paid" and payout.status == IN_TRANSIT:
        return transitions.mark_paid(payout, moment, record).status
    if current.status in ("failed", "canceled") and payout.status in (IN_TRANSIT, PAID):
        return transitions.mark_returned(payout, current.failure_code, moment, record).status
    return record_only(record, f"ignored_{payout.status}")
