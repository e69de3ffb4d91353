"""The checkout refusals the operator watches (README, "Observability"): the metric CheckoutRefused, by
reason. A refusal is named by the code of the error that refused, never by what the customer sent."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from chalicelib.checkout.errors import (
    CartNotReady,
    CheckoutInProgress,
    IdempotencyKeyReused,
    InsufficientStock,
    SlotFull,
    SlotUnavailable,
)
from chalicelib.core import metrics
from chalicelib.core.errors import DomainError

P = ParamSpec("P")
R = TypeVar("R")

REASONS = {
    InsufficientStock.code: "stock",
    SlotFull.code: "slot",
    SlotUnavailable.code: "slot",
    IdempotencyKeyReused.code: "idempotency",
    CheckoutInProgress.code: "idempotency",
}


def refusal_reason(error: DomainError) -> str | None:
    """stock, slot or idempotency for the refusals counted; None for any other failure."""
    if isinstance(error, CartNotReady):
        from chalicelib.checkout.pickup import SLOT_UNAVAILABLE

        # The chosen slot passed or filled since the customer chose it.
        problems = error.details.get("problems") or []
        return "slot" if any(str(p).endswith(":" + SLOT_UNAVAILABLE) for p in problems) else None
    return REASONS.get(error.code)


def counted_refusals(checkout: Callable[P, R]) -> Callable[P, R]:
    """Counts each refusal of ``checkout`` by reason; what it returns or raises is unchanged."""

    @functools.wraps(checkout)
    def counting(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return checkout(*args, **kwargs)
        except DomainError as refused:
            reason = refusal_reason(refused)
            if reason:
                metrics.count("CheckoutRefused", reason=reason)
            raise

    return counting
