"""Reading refunds: a shop's refunds of one order, and the operator's list of refunds still to be seen
through (pending or failed), by key."""

from __future__ import annotations

from chalicelib.core.db import query_page
from chalicelib.order.errors import OrderNotFound
from chalicelib.order.models import RefundItem, SubOrderItem
from chalicelib.order.refunds import REFUND_INDEX
from chalicelib.order.schemas import OperatorRefundQuery, Refund, RefundLine, RefundPage


def shop_refunds(order_id: str, shop_id: str) -> RefundPage:
    """The shop's refunds of one order, oldest first; 404 when the shop has no part in the order."""
    try:
        SubOrderItem.get(*SubOrderItem.key_for(order_id, shop_id))
    except SubOrderItem.DoesNotExist:
        raise OrderNotFound(order_id) from None
    items = RefundItem.query(
        f"ORDER#{order_id}", RefundItem.sk.startswith("REFUND#"), RefundItem.shop_id == shop_id
    )
    return RefundPage(sorted((refund_view(r) for r in items), key=lambda r: (r.created_at, r.id)))


def operator_refunds(query: OperatorRefundQuery) -> RefundPage:
    """Refunds still pending or failed, mall-wide, oldest first: the ones a person may have to look at."""
    items, cursor = query_page(
        RefundItem,
        REFUND_INDEX.format(status=query.status),
        index="gsi2",
        limit=query.limit,
        cursor=query.cursor,
    )
    return RefundPage([refund_view(r) for r in items], cursor)


def refund_view(refund: RefundItem) -> Refund:
    return Refund(
        id=refund.refund_id,
        order_id=refund.order_id,
        shop_id=refund.shop_id,
        status=refund.status,
        amount_cents=int(refund.amount_cents),
        lines=[RefundLine(x["variant_id"], int(x["quantity"]), int(x["amount_cents"])) for x in refund.lines],
        restock=refund.restock == "yes",
        reason=refund.reason,
        requested_by=refund.requested_by,
        cancelled_sub_order=refund.cancels == "yes",
        provider_refund_id=refund.stripe_refund_id,
        last_error=refund.last_error,
        created_at=refund.created_at,
        updated_at=refund.updated_at,
        attempt=int(refund.attempt or 0),
    )
