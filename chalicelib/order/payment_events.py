"""What Stripe's payment and refund events do to orders: each applied exactly once (the event's id is
recorded in the transaction of its effect), harmless when duplicated or late."""

from __future__ import annotations

from typing import Any

from chalicelib.core.log import logger
from chalicelib.order import service as orders
from chalicelib.order.errors import OrderNotFound
from chalicelib.order.service import EventRecord
from chalicelib.payment.webhooks import MalformedEvent, event_object, text

PAYMENT_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled")
REFUND_EVENTS = ("charge.refunded", "refund.updated")


def payment_intent_event(event: dict[str, Any]) -> str:
    kind = event["type"]
    intent = event_object(event)
    metadata = intent.get("metadata")
    order_id = text(metadata.get("order_id")) if isinstance(metadata, dict) else None
    if metadata is not None and not isinstance(metadata, dict):
        raise MalformedEvent("data.object.metadata")
    if not text(intent.get("id")):
        raise MalformedEvent("data.object.id")
    if not order_id:
        return "ignored_no_order"
    record = EventRecord(str(event["id"]), kind)
    handler = {
        "payment_intent.succeeded": _succeeded,
        "payment_intent.payment_failed": _failed,
        "payment_intent.canceled": _canceled,
    }[kind]
    try:
        return handler(order_id, intent, record)
    except OrderNotFound:
        return "ignored_unknown_order"


def refund_event(event: dict[str, Any]) -> str:
    """refund.updated carries one refund; charge.refunded the charge with its refunds (when expanded).
    Each refund is settled once per event (the record's id names both)."""
    from chalicelib.order.refunds import handle_provider_refund

    obj = event_object(event)
    if event["type"] == "refund.updated":
        refunds: list[Any] = [obj]
    else:
        listed = obj.get("refunds")
        data = listed.get("data") if isinstance(listed, dict) else None
        if listed is not None and not isinstance(data, list):
            raise MalformedEvent("data.object.refunds")
        refunds = list(data or [])
    outcomes = []
    for refund in refunds:
        if not isinstance(refund, dict):
            raise MalformedEvent("data.object.refunds.data")
        record = EventRecord(f"{event['id']}:{refund.get('id')}", event["type"])
        try:
            outcomes.append(handle_provider_refund(refund, record))
        except OrderNotFound:
            outcomes.append("ignored_unknown_order")
    return ",".join(outcomes) or "ignored_no_refund"


def _own_order(order_id: str, intent: dict[str, Any]) -> orders.LoadedOrder | None:
    """The order, read once for the whole event, if the intent is its own (the id is set right after
    checkout, the amount at checkout); None otherwise."""
    order, subs = orders.load_order(order_id)
    belongs = order.payment_intent_id in (None, intent.get("id")) and int(order.total_cents) == intent.get(
        "amount"
    )
    return (order, subs) if belongs else None


def _succeeded(order_id: str, intent: dict[str, Any], record: EventRecord) -> str:
    loaded = _own_order(order_id, intent)
    if loaded is None:
        logger.error("payment intent does not match its order", extra={"order_id": order_id})
        return "ignored_mismatch"
    return orders.mark_paid(order_id, record, loaded=loaded, payment_intent_id=str(intent["id"]))


def _failed(order_id: str, intent: dict[str, Any], record: EventRecord) -> str:
    loaded = _own_order(order_id, intent)
    if loaded is None:
        return "ignored_mismatch"
    # A declined card: Stripe keeps the intent open for another card, so the order keeps its stock until
    # its hold ends (chalicelib/order/unpaid.py).
    from chalicelib.order.unpaid import record_payment_failure

    return record_payment_failure(order_id, intent, record, loaded)


def _canceled(order_id: str, intent: dict[str, Any], record: EventRecord) -> str:
    loaded = _own_order(order_id, intent)
    if loaded is None:
        return "ignored_mismatch"
    return orders.cancel_unpaid(order_id, reason="payment_canceled", event=record, by="stripe", loaded=loaded)
