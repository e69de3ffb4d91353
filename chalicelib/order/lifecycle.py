"""The sub-order state machine, as one explicit table: which status may follow which, for whom, and how.

Every status change of a sub-order goes through :func:`check`, whoever asks: the retailer's dashboard, the
customer's "cancel" button, the payment webhook, the no-show job and the refund service. Keeping the rules
in one literal table (rather than in the handlers) lets a reviewer read the whole lifecycle at a glance and
lets the tests compare it, cell by cell, with an independently written copy.

Refund statuses are set by the system only: a retailer *asks* for a refund through the refund service,
which records the status once the payment provider has accepted it, so the status never claims money
moved when it did not.

Pure standard library (plus the domain error base classes): no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from chalicelib.core.errors import Conflict, Unprocessable


class Status(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PREPARING = "preparing"
    READY_FOR_PICKUP = "ready_for_pickup"
    OUT_FOR_DELIVERY = "out_for_delivery"
    COLLECTED = "collected"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class Actor(StrEnum):
    CUSTOMER = "customer"
    RETAILER = "retailer"
    SYSTEM = "system"


PICKUP: Final = "pickup"
DELIVERY: Final = "delivery"
METHODS: Final = frozenset({PICKUP, DELIVERY})


@dataclass(frozen=True)
class Rule:
    """Who may make one transition, for which fulfilment method (None = both), and whether the customer's
    pickup code must have been verified first."""

    actors: frozenset[Actor]
    method: str | None = None
    needs_pickup_code: bool = False


_S = Status
_CUSTOMER, _RETAILER, _SYSTEM = Actor.CUSTOMER, Actor.RETAILER, Actor.SYSTEM
_SYSTEM_ONLY = Rule(frozenset({_SYSTEM}))

TRANSITIONS: Final[dict[tuple[Status, Status], Rule]] = {
    (_S.PENDING_PAYMENT, _S.PAID): _SYSTEM_ONLY,
    # Hold expiry or a failed payment; the customer has not paid, so nothing is refunded.
    (_S.PENDING_PAYMENT, _S.CANCELLED): _SYSTEM_ONLY,
    (_S.PAID, _S.PREPARING): Rule(frozenset({_RETAILER})),
    (_S.PAID, _S.CANCELLED): Rule(frozenset({_RETAILER, _CUSTOMER, _SYSTEM})),
    (_S.PREPARING, _S.READY_FOR_PICKUP): Rule(frozenset({_RETAILER}), method=PICKUP),
    (_S.PREPARING, _S.OUT_FOR_DELIVERY): Rule(frozenset({_RETAILER}), method=DELIVERY),
    (_S.PREPARING, _S.CANCELLED): Rule(frozenset({_RETAILER, _CUSTOMER})),
    # The code proves the person at the counter is the customer (or was sent by them).
    (_S.READY_FOR_PICKUP, _S.COLLECTED): Rule(frozenset({_RETAILER}), method=PICKUP, needs_pickup_code=True),
    # System = the no-show job. The customer may no longer cancel: the goods are waiting on the counter.
    (_S.READY_FOR_PICKUP, _S.CANCELLED): Rule(frozenset({_RETAILER, _SYSTEM})),
    (_S.OUT_FOR_DELIVERY, _S.DELIVERED): Rule(frozenset({_RETAILER}), method=DELIVERY),
    # The refund of a cancelled (paid) sub-order went through.
    (_S.CANCELLED, _S.REFUNDED): _SYSTEM_ONLY,
    # After hand-over, returns are refunded by the refund service, possibly in several parts.
    (_S.COLLECTED, _S.PARTIALLY_REFUNDED): _SYSTEM_ONLY,
    (_S.COLLECTED, _S.REFUNDED): _SYSTEM_ONLY,
    (_S.DELIVERED, _S.PARTIALLY_REFUNDED): _SYSTEM_ONLY,
    (_S.DELIVERED, _S.REFUNDED): _SYSTEM_ONLY,
    (_S.PARTIALLY_REFUNDED, _S.PARTIALLY_REFUNDED): _SYSTEM_ONLY,
    (_S.PARTIALLY_REFUNDED, _S.REFUNDED): _SYSTEM_ONLY,
}

CUSTOMER_CANCELLABLE: Final = frozenset({Status.PAID, Status.PREPARING})
# Fulfilment is over: no customer or retailer action remains, only refunds recorded by the system.
TERMINAL: Final = frozenset(
    {Status.COLLECTED, Status.DELIVERED, Status.CANCELLED, Status.REFUNDED, Status.PARTIALLY_REFUNDED}
)
HANDED_OVER: Final = frozenset({Status.COLLECTED, Status.DELIVERED})


class IllegalTransition(Conflict):
    """The sub-order cannot go from ``current`` to ``target`` for this actor and fulfilment method.

    ``allowed`` lists what this actor may do instead (see :func:`next_statuses`), so a client whose view
    is stale can refresh its buttons from the error alone.
    """

    code = "illegal_transition"

    def __init__(self, current: str, target: str, allowed: list[str]) -> None:
        super().__init__(
            f"A sub-order in status {current} cannot move to {target}.",
            current=current,
            target=target,
            allowed=allowed,
        )
        self.current = current
        self.target = target
        self.allowed = allowed


class PickupCodeRequired(Unprocessable):
    code = "pickup_code_required"

    def __init__(self) -> None:
        super().__init__("Enter the customer's pickup code to mark the order as collected.")


def _status(value: str) -> Status | None:
    try:
        return Status(value)
    except ValueError:
        return None


def _method(value: str) -> str:
    # The method comes from the stored sub-order, never from the request: an unknown one is corrupt data.
    if value not in METHODS:
        raise ValueError(f"unknown fulfilment method {value!r}; expected one of {sorted(METHODS)}")
    return value


def _permits(rule: Rule, actor: Actor, method: str) -> bool:
    return actor in rule.actors and rule.method in (None, method)


def next_statuses(current: str, actor: Actor, method: str) -> list[str]:
    """The statuses ``actor`` may move a ``method`` sub-order to from ``current``, sorted.

    These are the buttons to show; a transition that needs the pickup code is listed too (the UI asks for
    the code). Raises ValueError for an unknown ``current`` status, actor or method: all three come from
    stored data or the caller's own code, not from the request.
    """
    actor = Actor(actor)
    method = _method(method)
    state = _status(current)
    if state is None:
        raise ValueError(f"unknown sub-order status {current!r}")
    return sorted(
        target.value
        for (source, target), rule in TRANSITIONS.items()
        if source is state and _permits(rule, actor, method)
    )


def check(current: str, target: str, actor: Actor, method: str, pickup_code_ok: bool = False) -> Rule:
    """The rule allowing ``actor`` to move a ``method`` sub-order from ``current`` to ``target``.

    Raises :class:`IllegalTransition` when the table has no such move for this actor and method (including
    an unknown ``target``, which comes from the request, and "moves" to the same status), and
    :class:`PickupCodeRequired` when the move is allowed but needs a pickup code that was not verified;
    ``pickup_code_ok`` is the caller's verdict on the code, compared in constant time on its side. The
    code is checked last, so a wrong code never reveals anything to an actor who may not make the move.
    ValueError as for :func:`next_statuses`.
    """
    allowed = next_statuses(current, actor, method)
    state, wanted = Status(current), _status(target)
    rule = TRANSITIONS.get((state, wanted)) if wanted is not None else None
    if rule is None or not _permits(rule, Actor(actor), method):
        raise IllegalTransition(current, target, allowed)
    if rule.needs_pickup_code and not pickup_code_ok:
        raise PickupCodeRequired()
    return rule
