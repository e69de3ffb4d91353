"""A shop's payout account: its Stripe Connect (Express) account and onboarding, its state as Stripe
reports it (applied from the Connect webhook by re-reading the account, so late or repeated events are
harmless), its payout schedule and the due index the sweep reads.

A shop becomes payable when Stripe says so (payouts enabled, transfers capability active); from then on
its schedule puts it in the due index, and the first sweep after that pays what it earned meanwhile.
"""

from __future__ import annotations

import hashlib
import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

from msgspec import UNSET
from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib.auth.service import Principal
from chalicelib.core.clock import iso, now
from chalicelib.core.db import transaction
from chalicelib.core.log import logger
from chalicelib.payment import gateway as provider
from chalicelib.payment.gateway import PaymentProviderFailed
from chalicelib.payout.errors import AccountDisconnected, AccountNotStarted, PayoutAccountNotFound
from chalicelib.payout.models import (
    ACTIVE,
    DISCONNECTED,
    DUE_PARTITION,
    DUE_SHARDS,
    NOT_STARTED,
    ConnectAccountLookup,
    PayoutAccountItem,
)
from chalicelib.payout.rules import AccountState, Schedule, account_state, next_payout_date
from chalicelib.payout.schemas import PayoutAccount, ScheduleIn, ScheduleOut

MALL_ZONE = ZoneInfo("Europe/Brussels")


def mall_today(moment: datetime | None = None) -> date:
    """Payout days are the mall's calendar days (Belgium), whatever the clock of the Lambda."""
    return (moment or now()).astimezone(MALL_ZONE).date()


def due_shard(shop_id: str) -> int:
    return int(hashlib.sha256(shop_id.encode()).hexdigest()[:8], 16) % DUE_SHARDS


def schedule_of(account: PayoutAccountItem) -> Schedule:
    return Schedule(account.interval, account.weekly_anchor, int(account.monthly_anchor))


def payable(account: PayoutAccountItem) -> bool:
    return account.status == ACTIVE and not account.paused and bool(account.stripe_account_id)


def due_actions(account: PayoutAccountItem, on: date | None) -> list[object]:
    """Puts the shop in the due index for ``on`` (None: out of it). Sets ``account`` in memory too."""
    if on is None:
        account.next_payout_on = account.gsi3pk = account.gsi3sk = None
        return [
            PayoutAccountItem.next_payout_on.remove(),
            PayoutAccountItem.gsi3pk.remove(),
            PayoutAccountItem.gsi3sk.remove(),
        ]
    account.next_payout_on = on.isoformat()
    account.gsi3pk = DUE_PARTITION.format(shard=due_shard(account.shop_id))
    account.gsi3sk = f"{account.next_payout_on}#{account.shop_id}"
    return [
        PayoutAccountItem.next_payout_on.set(account.next_payout_on),
        PayoutAccountItem.gsi3pk.set(account.gsi3pk),
        PayoutAccountItem.gsi3sk.set(account.gsi3sk),
    ]


def first_due(account: PayoutAccountItem, today: date) -> date | None:
    """Payable on a schedule: due today, so the next sweep pays what waited. Manual, paused or not
    payable: not in the index."""
    if not payable(account) or account.interval == "manual":
        return None
    return today


# --- reading and creating ---------------------------------------------------------------------------


def load_account(shop_id: str, consistent: bool = True) -> PayoutAccountItem | None:
    try:
        return PayoutAccountItem.get(*PayoutAccountItem.key_for(shop_id), consistent_read=consistent)
    except PayoutAccountItem.DoesNotExist:
        return None


def ensure_account(shop_id: str) -> PayoutAccountItem:
    """The shop's account item, created with the defaults if it has none yet (so later updates inside
    transactions always find a whole item)."""
    existing = load_account(shop_id)
    if existing is not None:
        return existing
    stamp = iso(now())
    item = PayoutAccountItem(
        *PayoutAccountItem.key_for(shop_id), shop_id=shop_id, created_at=stamp, updated_at=stamp
    )
    try:
        item.save(condition=PayoutAccountItem.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return ensure_account(shop_id)
    return item


def create_account(principal: Principal, base_url: str) -> PayoutAccount:
    """Creates the shop's Connect account once (a retry, even after a crash between Stripe's answer and
    our write, gets the same account: the idempotency key is the shop's) and returns a fresh onboarding
    link."""
    from chalicelib.shop.service import operator_get_shop

    shop_id = principal.require_writable_shop()
    account = ensure_account(shop_id)
    if account.status == DISCONNECTED:
        raise AccountDisconnected()
    if account.stripe_account_id is None:
        profile = operator_get_shop(shop_id).profile
        created = provider.gateway().create_connect_account(
            shop_id=shop_id,
            country=profile.address.country,
            email=profile.email,
            idempotency_key=f"connect-account:{shop_id}",
        )
        state = account_state(created)
        stamp = iso(now())
        try:
            with transaction() as tx:
                tx.save(
                    ConnectAccountLookup(*ConnectAccountLookup.key_for(created.id), shop_id=shop_id),
                    condition=ConnectAccountLookup.pk.does_not_exist()
                    | (ConnectAccountLookup.shop_id == shop_id),
                )
                tx.update(
                    account,
                    actions=[
                        PayoutAccountItem.stripe_account_id.set(created.id),
                        PayoutAccountItem.country.set(created.country or profile.address.country),
                        *_state_actions(state, stamp),
                    ],
                    condition=PayoutAccountItem.stripe_account_id.does_not_exist()
                    | (PayoutAccountItem.stripe_account_id == created.id),
                )
        except TransactWriteError:
            pass  # a concurrent request recorded it first: the same account (same idempotency key)
        account = ensure_account(shop_id)
    return _view(account, onboarding_url=_link(account, base_url))


def new_link(principal: Principal, base_url: str) -> PayoutAccount:
    shop_id = principal.require_writable_shop()
    account = load_account(shop_id)
    if account is None or account.stripe_account_id is None:
        raise AccountNotStarted()
    if account.status == DISCONNECTED:
        raise AccountDisconnected()
    return _view(account, onboarding_url=_link(account, base_url))


def account_view(shop_id: str) -> PayoutAccount:
    """The account as the retailer sees it: with a login link to the Express dashboard once active."""
    account = load_account(shop_id, consistent=False)
    if account is None:
        return _view(None)
    dashboard = None
    if account.status == ACTIVE and account.stripe_account_id:
        try:
            dashboard = provider.gateway().create_login_link(account.stripe_account_id)
        except PaymentProviderFailed:
            logger.warning("no dashboard link from the provider", extra={"shop_id": shop_id})
    return _view(account, dashboard_url=dashboard)


def _link(account: PayoutAccountItem, base_url: str) -> str:
    """A fresh AccountLink: single-use and short-lived, so every request gets its own. Return and refresh
    URLs from the stage's config, else the API's own pages saying where to go next."""
    assert account.stripe_account_id is not None
    return provider.gateway().create_account_link(
        account.stripe_account_id,
        refresh_url=os.environ.get("CONNECT_REFRESH_URL") or f"{base_url}/payouts/onboarding/refresh",
        return_url=os.environ.get("CONNECT_RETURN_URL") or f"{base_url}/payouts/onboarding/return",
    )


def _state_actions(state: AccountState, stamp: str) -> list[object]:
    return [
        PayoutAccountItem.status.set(state.status),
        PayoutAccountItem.currently_due.set(list(state.currently_due)),
        PayoutAccountItem.disabled_reason.set(state.disabled_reason)
        if state.disabled_reason
        else PayoutAccountItem.disabled_reason.remove(),
        PayoutAccountItem.synced_at.set(stamp),
        PayoutAccountItem.updated_at.set(stamp),
    ]


def _view(
    account: PayoutAccountItem | None, onboarding_url: str | None = None, dashboard_url: str | None = None
) -> PayoutAccount:
    if account is None:
        return PayoutAccount(NOT_STARTED, None, [], None, ScheduleOut("weekly", "monday", 1, False, None))
    return PayoutAccount(
        status=account.status,
        stripe_account_id=account.stripe_account_id,
        currently_due=list(account.currently_due or []),
        disabled_reason=account.disabled_reason,
        schedule=schedule_view(account),
        onboarding_url=onboarding_url,
        dashboard_url=dashboard_url,
    )


def schedule_view(account: PayoutAccountItem) -> ScheduleOut:
    return ScheduleOut(
        account.interval,
        account.weekly_anchor,
        int(account.monthly_anchor),
        bool(account.paused),
        account.next_payout_on,
    )


# --- schedule and pausing -------------------------------------------------------------------------


def set_schedule(principal: Principal, body: ScheduleIn) -> ScheduleOut:
    shop_id = principal.require_writable_shop()
    account = ensure_account(shop_id)
    account.interval = body.interval
    if body.weekly_anchor is not UNSET:
        account.weekly_anchor = body.weekly_anchor
    if body.monthly_anchor is not UNSET:
        account.monthly_anchor = body.monthly_anchor
    due = next_payout_date(schedule_of(account), mall_today()) if payable(account) else None
    account.update(
        actions=[
            PayoutAccountItem.interval.set(account.interval),
            PayoutAccountItem.weekly_anchor.set(account.weekly_anchor),
            PayoutAccountItem.monthly_anchor.set(int(account.monthly_anchor)),
            PayoutAccountItem.updated_at.set(iso(now())),
            *due_actions(account, due),
        ]
    )
    return schedule_view(account)


def set_paused(shop_id: str, paused: bool) -> ScheduleOut:
    """The operator holds a shop's payouts (it keeps earning) or lets them go again: resumed, it is due at
    the next sweep."""
    from chalicelib.shop.service import operator_get_shop

    operator_get_shop(shop_id)  # 404 for an unknown shop
    account = ensure_account(shop_id)
    account.paused = paused
    account.update(
        actions=[
            PayoutAccountItem.paused.set(paused),
            PayoutAccountItem.updated_at.set(iso(now())),
            *due_actions(account, first_due(account, mall_today())),
        ]
    )
    return schedule_view(account)


# --- Connect events -------------------------------------------------------------------------------


def apply_account_event(account_id: str, event_type: str, record: object) -> str:
    """account.updated / capability.updated / account.application.deauthorized for ``account_id``.

    The event's snapshot may be old (deliveries come out of order), so the account is read again from
    Stripe and its current state applied; a deauthorized account is disconnected for good (Stripe no
    longer lets the mall read it)."""
    from chalicelib.order.service import EventRecord, applied, record_only
    from chalicelib.payment.models import ProcessedEvent

    assert isinstance(record, EventRecord)
    try:
        lookup = ConnectAccountLookup.get(*ConnectAccountLookup.key_for(account_id), consistent_read=True)
    except ConnectAccountLookup.DoesNotExist:
        return "ignored_unknown_account"
    account = load_account(lookup.shop_id)
    if account is None:
        raise PayoutAccountNotFound(lookup.shop_id)
    if account.status == DISCONNECTED:
        return record_only(record, "ignored_disconnected")
    if event_type == "account.application.deauthorized":
        state = AccountState(DISCONNECTED)
    else:
        try:
            state = account_state(provider.gateway().retrieve_connect_account(account_id))
        except PaymentProviderFailed as error:
            if not error.refused:
                raise  # unknown: Stripe delivers the event again later
            # Refused (a key of the wrong mode, a permission): nothing to learn from this event, and no
            # verdict on the shop. Only account.application.deauthorized disconnects it.
            logger.error("connected account unreadable", extra={"shop_id": lookup.shop_id})
            return record_only(record, "ignored_unreadable_account")
    became_payable = state.status == ACTIVE and account.status != ACTIVE
    account.status = state.status
    actions = _state_actions(state, iso(now()))
    if became_payable:
        actions += due_actions(account, first_due(account, mall_today()))
    elif state.status != ACTIVE:
        actions += due_actions(account, None)
    try:
        with transaction() as tx:
            tx.update(account, actions=actions)
            tx.save(record.item(state.status), condition=ProcessedEvent.pk.does_not_exist())
    except TransactWriteError:
        if applied(record):
            return "duplicate"
        raise  # not applied (a conflict, a throttle): Stripe delivers the event again
    return state.status
