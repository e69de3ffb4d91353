"""The retailer moves its part of an order through fulfilment: preparing, ready for pickup or out for
delivery, collected (with the customer's pickup code) or delivered.

Nothing here decides which move is allowed: :func:`chalicelib.order.lifecycle.check` does. This module
verifies the pickup code and applies the move in one transaction with its event, conditional on the status
it read, so two devices at the counter can never both apply a change.
"""

from __future__ import annotations

import hmac
import math
from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.auth.service import Principal
from chalicelib.core.clock import iso, now
from chalicelib.core.db import transaction
from chalicelib.order import lifecycle
from chalicelib.order.errors import (
    OrderNotFound,
    SubOrderChangedConcurrently,
    TooManyPickupAttempts,
    WrongPickupCode,
)
from chalicelib.order.lifecycle import Actor, IllegalTransition, PickupCodeRequired, Status
from chalicelib.order.models import SubOrderItem
from chalicelib.order.moves import stage_move
from chalicelib.order.schemas import RefundIn, StatusChangeIn, SubOrder
from chalicelib.order.views import retailer_actions, sub_order_view

MAX_WRONG_CODES = 5
# Counted from the first wrong code: after MAX_WRONG_CODES in this window, every attempt (right or wrong)
# is refused until it ends, which bounds guessing a 6-digit code to 5 tries per 15 minutes.
WRONG_CODE_WINDOW = timedelta(minutes=15)
# A counter update that loses a race is re-read and re-judged; more losses than this is not a human.
_COUNT_TRIES = 3
_RACE_CODES = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


def load_sub_order(order_id: str, shop_id: str) -> SubOrderItem:
    # Keyed by the caller's shop: another shop's sub-order is simply not found.
    try:
        return SubOrderItem.get(*SubOrderItem.key_for(order_id, shop_id), consistent_read=True)
    except SubOrderItem.DoesNotExist:
        raise OrderNotFound(order_id) from None


def change_status(
    principal: Principal, order_id: str, body: StatusChangeIn, moment: datetime | None = None
) -> SubOrder:
    sub = load_sub_order(order_id, principal.shop_id or "")
    if body.to == Status.CANCELLED:
        # Cancelling a paid sub-order is refunding it in full, with its units back on sale.
        from chalicelib.order import refunds

        refunds.request_refund(
            order_id,
            sub.shop_id,
            RefundIn(lines=None, restock=True, reason="cancelled_by_shop"),
            Actor.RETAILER,
            require_cancel=True,
        )
        return sub_order_view(load_sub_order(order_id, sub.shop_id), for_shop=True)
    method = sub.fulfilment["method"]
    try:
        lifecycle.check(sub.status, body.to, Actor.RETAILER, method)
    except IllegalTransition as error:
        # The same list as the view's `actions`, so a stale client can redraw its buttons from the error.
        raise IllegalTransition(error.current, error.target, retailer_actions(sub)) from None
    except PickupCodeRequired:
        if body.pickup_code is None:
            raise
        sub = _verify_pickup_code(sub, body.pickup_code)
        lifecycle.check(sub.status, body.to, Actor.RETAILER, method, pickup_code_ok=True)
        try:
            _apply(sub, body.to, moment or now())
        except Exception:
            # The right code's attempt is only spent by a collection that happened.
            _give_attempt_back(sub)
            raise
        return sub_order_view(sub, for_shop=True)
    _apply(sub, body.to, moment or now())
    return sub_order_view(sub, for_shop=True)


def _verify_pickup_code(sub: SubOrderItem, code: str) -> SubOrderItem:
    """Returns the sub-order (re-read if a counter update raced) when ``code`` is right; raises
    TooManyPickupAttempts during a lockout (before comparing, so a locked-out guess learns nothing) and
    WrongPickupCode after counting a wrong code.

    Every attempt first takes one of the window's attempts with a conditional write (count below the
    limit), and only then compares: a burst sent at once is judged by the stored counter, not by the
    sub-order each request read, so no burst compares more codes than the attempts left. A right code
    spends its attempt too (the caller gives it back if the collection then fails), so a burst holding the
    right code still compares no more codes than the attempts left."""
    for _ in range(_COUNT_TRIES):
        moment = now()
        since = _parse(sub.pickup_failures_since)
        in_window = since is not None and moment < since + WRONG_CODE_WINDOW
        failures = int(sub.pickup_failures or 0) if in_window else 0
        if since is not None and failures >= MAX_WRONG_CODES:
            wait = (since + WRONG_CODE_WINDOW - moment).total_seconds()
            raise TooManyPickupAttempts(max(1, math.ceil(wait)))
        if sub.status != Status.READY_FOR_PICKUP:
            raise SubOrderChangedConcurrently(sub.order_id)
        try:
            _take_attempt(sub, moment, in_window)
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            # Another attempt took the last one, restarted the window or collected the order: judge again
            # on the stored item.
            sub = load_sub_order(sub.order_id, sub.shop_id)
            continue
        # Constant time: the comparison must not tell how many leading digits were right.
        if sub.pickup_code and hmac.compare_digest(sub.pickup_code.encode(), code.encode()):
            return sub
        raise WrongPickupCode(max(0, MAX_WRONG_CODES - int(sub.pickup_failures or 0)))
    raise SubOrderChangedConcurrently(sub.order_id)


def _take_attempt(sub: SubOrderItem, moment: datetime, in_window: bool) -> None:
    """One more attempt, conditional on the window read, on an attempt being left and on the sub-order
    still waiting for its pickup, so concurrent attempts each count once, a window is never restarted over
    another attempt's count and no code is compared once the order is collected. Updates ``sub`` with the
    stored values."""
    read_since = (
        SubOrderItem.pickup_failures_since.does_not_exist()
        if sub.pickup_failures_since is None
        else SubOrderItem.pickup_failures_since == sub.pickup_failures_since
    )
    exists_with_window = (
        SubOrderItem.pk.exists() & read_since & (SubOrderItem.status == Status.READY_FOR_PICKUP.value)
    )
    if in_window:
        sub.update(
            actions=[SubOrderItem.pickup_failures.add(1)],
            condition=exists_with_window & (SubOrderItem.pickup_failures < MAX_WRONG_CODES),
        )
    else:
        sub.update(
            actions=[
                SubOrderItem.pickup_failures.set(1),
                SubOrderItem.pickup_failures_since.set(iso(moment)),
            ],
            condition=exists_with_window,
        )


def _give_attempt_back(sub: SubOrderItem) -> None:
    """A right code whose collection failed (a concurrent change) is not a failure: its attempt is
    returned, in the window it was taken from (a window that ended meanwhile has nothing to return to)."""
    try:
        sub.update(
            actions=[SubOrderItem.pickup_failures.add(-1)],
            condition=(SubOrderItem.pickup_failures_since == sub.pickup_failures_since)
            & (SubOrderItem.pickup_failures > 0),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def _apply(sub: SubOrderItem, to: str, moment: datetime) -> None:
    try:
        with transaction() as tx:
            stage_move(tx, sub, to, Actor.RETAILER.value, moment)
    except TransactWriteError as error:
        reasons = {reason.code for reason in error.cancellation_reasons if reason is not None}
        if error.cause_response_code == "TransactionCanceledException" and reasons <= _RACE_CODES:
            raise SubOrderChangedConcurrently(sub.order_id) from None
        raise


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
