"""A sub-order as its customer and its shop read it: lines with what was refunded of each, the delivery fee
as its own line, the refunded amount and whether the sub-order was refunded in part or in full.

Before hand-over a refund of some lines keeps the sub-order's status (it is still being prepared, with the
rest), so the status alone cannot say "partly refunded": `refund_status` does, whatever the status.
"""

from __future__ import annotations

from typing import Any

from chalicelib.checkout.pricing import STANDARD_VAT_BPS, vat_included
from chalicelib.checkout.schemas import VatOut
from chalicelib.core.validation import convert
from chalicelib.order.lifecycle import Actor, next_statuses
from chalicelib.order.models import CANCELLED, SubOrderItem
from chalicelib.order.moves import units
from chalicelib.order.schemas import FeeLine, OrderLine, StatusChange, SubOrder


def retailer_actions(sub: SubOrderItem) -> list[str]:
    """The retailer's next statuses (cancelled = cancel and refund in full, chalicelib/order/refunds.py)."""
    return next_statuses(sub.status, Actor.RETAILER, sub.fulfilment["method"])


def sub_order_view(sub: SubOrderItem, for_shop: bool = False) -> SubOrder:
    fulfilment = dict(sub.fulfilment)
    if sub.pickup_code and not for_shop:
        # Only the customer sees the code: the shop must get it from the customer at the counter.
        fulfilment["pickup"] = {
            **fulfilment.get("pickup", {}),
            "code": sub.pickup_code,
            "qr_payload": f"mall-pickup:{sub.order_id}:{sub.shop_id}:{sub.pickup_code}",
        }
    refunded_units, taken = units(sub.refunded), sub.taken_cents
    lines = [_line(line, refunded_units, taken) for line in sub.lines]
    fee = _fee_line(sub)
    refunded = sum(line.refunded_cents for line in lines) + (fee.refunded_cents if fee else 0)
    contact = fulfilment.get("contact") or {}
    return SubOrder(
        order_id=sub.order_id,
        shop_id=sub.shop_id,
        shop_name=sub.shop_name,
        status=sub.status,
        fulfilment=fulfilment,
        lines=lines,
        subtotal_cents=int(sub.subtotal_cents),
        delivery_fee_cents=int(sub.delivery_fee_cents),
        total_cents=int(sub.total_cents),
        vat=[convert(v, VatOut, strict=True) for v in sub.vat],
        history=[StatusChange(h["at"], h["by"], h.get("from"), h["to"]) for h in sub.history],
        created_at=sub.created_at,
        updated_at=sub.updated_at,
        customer_email=sub.email if for_shop else None,
        actions=retailer_actions(sub) if for_shop else None,
        fee_lines=[fee] if fee else [],
        refunded_cents=refunded,
        refund_status=_refund_status(refunded, lines),
        customer_name=contact.get("name") if for_shop else None,
        customer_phone=contact.get("phone") if for_shop else None,
    )


def _line(line: dict[str, Any], refunded_units: dict[str, int], taken: dict[str, int]) -> OrderLine:
    view = convert(line, OrderLine, strict=True)
    view.refunded_quantity = refunded_units.get(view.variant_id, 0)
    view.refunded_cents = taken.get(view.variant_id, 0)
    return view


def _fee_line(sub: SubOrderItem) -> FeeLine | None:
    """The delivery fee: given back when a refund cancelled the sub-order before hand-over (never made)."""
    fee = int(sub.delivery_fee_cents)
    if fee <= 0:
        return None
    cancelled_after_payment = bool(sub.refunded) and any(h["to"] == CANCELLED for h in sub.history)
    return FeeLine(
        kind="delivery",
        amount_cents=fee,
        vat_rate_bps=STANDARD_VAT_BPS,
        vat_cents=vat_included(fee, STANDARD_VAT_BPS),
        refunded_cents=fee if cancelled_after_payment else 0,
    )


def _refund_status(refunded: int, lines: list[OrderLine]) -> str | None:
    if refunded <= 0:
        return None
    everything = all(line.refunded_quantity >= line.quantity for line in lines)
    return "refunded" if everything else "partially_refunded"
