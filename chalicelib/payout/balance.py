"""A shop's balance, from its ledger and its sub-orders, by key: what it will earn from paid orders not
yet handed over (pending), earnings in the mall's hold, earnings of disputed orders, what the next payout
pays (or a debt carried forward), what is on its way to the bank and what reached it."""

from __future__ import annotations

from chalicelib.core.clock import now, stamp
from chalicelib.ledger.commission import earnings
from chalicelib.ledger.queries import unsettled
from chalicelib.order.models import SubOrderItem
from chalicelib.payout.accounts import load_account
from chalicelib.payout.models import NOT_STARTED
from chalicelib.payout.rules import buckets
from chalicelib.payout.schemas import Balance
from chalicelib.payout.worker import entry_of

# Paid and not handed over yet: the shop will earn these when it does (unless they are cancelled).
PENDING_STATUSES = ("paid", "preparing", "ready_for_pickup", "out_for_delivery")


def shop_balance(shop_id: str) -> Balance:
    """1 GetItem (the payout account), 1 Query of the unsettled entries, 1 Query per pending status."""
    account = load_account(shop_id, consistent=False)
    held = set(account.held_orders or ()) if account else set()
    owed = buckets([entry_of(item) for item in unsettled(shop_id)], held, stamp(now()))
    return Balance(
        currency="EUR",
        pending_cents=_pending(shop_id),
        on_hold_cents=owed.on_hold_cents,
        disputed_cents=owed.disputed_cents,
        available_cents=max(0, owed.available_cents),
        carried_forward_cents=min(0, owed.available_cents),
        in_transit_cents=int(account.in_transit_cents or 0) if account else 0,
        paid_out_cents=int(account.paid_out_cents or 0) if account else 0,
        next_payout_on=account.next_payout_on if account else None,
        account_status=account.status if account else NOT_STARTED,
    )


def _pending(shop_id: str) -> int:
    total = 0
    for status in PENDING_STATUSES:
        for sub in SubOrderItem.gsi1.query(f"SHOP#{shop_id}#SUBORDERS#{status}"):
            if isinstance(sub, SubOrderItem):
                due = earnings(sub.lines, sub.taken_cents, int(sub.delivery_fee_cents), sub.commission_rate)
                total += due.shop_cents
    return total
