"""Deciding a refund: which units of a sub-order, how much, and whether it cancels it. Pure: decided on
the sub-order as read; chalicelib/order/refunds.py writes what is decided in one transaction conditional on
that read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.core.errors import InvalidInput
from chalicelib.ledger.commission import refund_amount
from chalicelib.order import lifecycle
from chalicelib.order.errors import NothingToRefund, RefundExceedsPaid, RefundNotAllowed
from chalicelib.order.lifecycle import Actor, Status
from chalicelib.order.models import SubOrderItem
from chalicelib.order.moves import units
from chalicelib.order.schemas import RefundIn

# Before hand-over a refund cancels the sub-order (the goods never left the shop).
BEFORE_HANDOVER = frozenset({Status.PAID, Status.PREPARING, Status.READY_FOR_PICKUP, Status.OUT_FOR_DELIVERY})
AFTER_HANDOVER = frozenset({Status.COLLECTED, Status.DELIVERED, Status.PARTIALLY_REFUNDED})


@dataclass(frozen=True)
class RefundPlan:
    """What a refund request amounts to, decided on the sub-order as read."""

    lines: list[dict[str, Any]]  # variant_id, product_id, name, quantity, amount_cents
    amount_cents: int
    cancels: bool
    refunded_after: dict[str, int]  # units taken per line, this refund included
    cents_after: dict[str, int]  # cents taken per line, this refund included


def plan_refund(sub: SubOrderItem, body: RefundIn, actor: Actor, require_cancel: bool) -> RefundPlan:
    """``require_cancel``: the caller means "cancel this sub-order" (customer, no-show job, retailer's cancel
    button), so after hand-over it is refused by the lifecycle rather than turned into a refund."""
    status = sub.status
    refunded, taken = units(sub.refunded), sub.taken_cents
    lines = _refund_lines(sub, body, refunded, taken)
    after, cents_after = dict(refunded), dict(taken)
    for line in lines:
        after[line["variant_id"]] = after.get(line["variant_id"], 0) + line["quantity"]
        cents_after[line["variant_id"]] = cents_after.get(line["variant_id"], 0) + line["amount_cents"]
    takes_everything = all(after.get(line["variant_id"], 0) >= int(line["quantity"]) for line in sub.lines)
    # Before hand-over, refunding everything left is a cancellation; refunding some lines (an item turned
    # out missing or damaged) keeps the sub-order on its way with the rest, its status unchanged.
    cancels = require_cancel or (status in BEFORE_HANDOVER and takes_everything)
    if cancels:
        # Who may cancel from which status is the lifecycle's call (the customer not once it is ready).
        lifecycle.check(status, Status.CANCELLED, actor, sub.fulfilment["method"])
        if not takes_everything:
            raise RefundNotAllowed(status, "Cancelling refunds the whole sub-order.")
    elif status not in BEFORE_HANDOVER | AFTER_HANDOVER:
        raise RefundNotAllowed(status, f"A sub-order in status {status} has nothing to refund.")
    amount = sum(line["amount_cents"] for line in lines)
    if cancels:
        # Cancelled before hand-over: the delivery was never made, so its fee goes back too (once: the
        # status condition lets only one cancellation happen).
        amount += int(sub.delivery_fee_cents)
    if amount <= 0:
        raise NothingToRefund()
    return RefundPlan(lines, amount, cancels, after, cents_after)


def _refund_lines(
    sub: SubOrderItem, body: RefundIn, refunded: dict[str, int], taken: dict[str, int]
) -> list[dict[str, Any]]:
    """The request's lines with their amounts; ``body.lines`` None = everything left."""
    by_variant = {line["variant_id"]: line for line in sub.lines}
    wanted: list[tuple[str, int]]
    if body.lines is None:
        wanted = [
            (v, int(line["quantity"]) - refunded.get(v, 0))
            for v, line in by_variant.items()
            if int(line["quantity"]) > refunded.get(v, 0)
        ]
    else:
        seen: set[str] = set()
        for index, requested in enumerate(body.lines):
            field = f"lines[{index}].variant_id"
            if requested.variant_id not in by_variant:
                raise InvalidInput.single(field, "is not a line of this sub-order")
            if requested.variant_id in seen:
                raise InvalidInput.single(field, "appears twice")
            seen.add(requested.variant_id)
        wanted = [(r.variant_id, r.quantity) for r in body.lines]
    result = []
    for variant_id, quantity in wanted:
        line = by_variant[variant_id]
        sold, before = int(line["quantity"]), refunded.get(variant_id, 0)
        if quantity > sold - before:
            raise RefundExceedsPaid(variant_id, quantity, sold - before)
        amount = refund_amount(int(line["total_cents"]), sold, before, taken.get(variant_id, 0), quantity)
        result.append(
            {
                "variant_id": variant_id,
                "product_id": line["product_id"],
                "name": line.get("name", ""),
                "quantity": quantity,
                "amount_cents": amount,
            }
        )
    return result
