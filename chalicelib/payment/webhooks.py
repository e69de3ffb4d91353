"""Stripe webhooks: verified on the raw body, applied exactly once, harmless when duplicated or late."""

from __future__ import annotations

import json
from typing import Any

from msgspec import Struct

from chalicelib.core.errors import FieldProblem, InvalidInput
from chalicelib.core.log import logger
from chalicelib.order import service as orders
from chalicelib.order.errors import OrderNotFound
from chalicelib.order.service import EventRecord

# How old a signed delivery may be: Stripe's default. Older ones are replays.
TOLERANCE_SECONDS = 300


class WebhookAck(Struct):
    received: bool
    outcome: str


class BadSignature(InvalidInput):
    code = "invalid_signature"

    def __init__(self) -> None:
        super().__init__(
            [FieldProblem("Stripe-Signature", "does not match the body, or the delivery is too old")]
        )


def handle_stripe_webhook(raw_body: bytes, signature: str | None) -> WebhookAck:
    event = _verified_event(raw_body, signature)
    kind = event.get("type", "")
    handlers = {
        "payment_intent.succeeded": _succeeded,
        "payment_intent.payment_failed": _failed,
        "payment_intent.canceled": _canceled,
    }
    if kind in ("charge.refunded", "refund.updated"):
        return _refund_event(event, kind)
    handler = handlers.get(kind)
    if handler is None:
        return WebhookAck(True, "ignored_event_type")
    intent = (event.get("data") or {}).get("object") or {}
    order_id = (intent.get("metadata") or {}).get("order_id")
    if not order_id:
        return WebhookAck(True, "ignored_no_order")
    record = EventRecord(str(event["id"]), kind)
    try:
        outcome = handler(order_id, intent, record)
    except OrderNotFound:
        outcome = "ignored_unknown_order"
    logger.info("stripe webhook", extra={"event_id": record.event_id, "type": kind, "outcome": outcome})
    return WebhookAck(True, outcome)


def _refund_event(event: dict[str, Any], kind: str) -> WebhookAck:
    """refund.updated carries one refund; charge.refunded the charge with its refunds (when expanded).
    Each refund is settled once per event (the record's id names both)."""
    from chalicelib.order.refunds import handle_provider_refund

    obj = (event.get("data") or {}).get("object") or {}
    refunds = [obj] if kind == "refund.updated" else list(((obj.get("refunds") or {}).get("data")) or [])
    outcomes = []
    for refund in refunds:
        record = EventRecord(f"{event['id']}:{refund.get('id')}", kind)
        try:
            outcomes.append(handle_provider_refund(refund, record))
        except OrderNotFound:
            outcomes.append("ignored_unknown_order")
    outcome = ",".join(outcomes) or "ignored_no_refund"
    logger.info("stripe webhook", extra={"event_id": event["id"], "type": kind, "outcome": outcome})
    return WebhookAck(True, outcome)


def _verified_event(raw_body: bytes, signature: str | None) -> dict[str, Any]:
    import stripe  # only webhook deliveries pay for this import

    from chalicelib.payment.secrets import webhook_secret

    try:
        stripe.WebhookSignature.verify_header(
            raw_body.decode(), signature, webhook_secret(), TOLERANCE_SECONDS
        )
        event = json.loads(raw_body)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
        raise BadSignature() from None
    if not isinstance(event, dict) or "id" not in event:
        raise BadSignature()
    return event


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
    # Stripe lets a customer retry a failed intent; we release the stock now, so the intent must not be
    # able to succeed later: cancel it first (idempotent).
    from chalicelib.payment.gateway import gateway

    current = gateway().cancel_payment_intent(str(intent["id"]), idempotency_key=f"cancel:{order_id}")
    if current.status == "succeeded":
        # A retry paid before this (older) failure was processed: the order is paid, its stock stays sold.
        return orders.mark_paid(order_id, record, loaded=loaded)
    return orders.cancel_unpaid(order_id, reason="payment_failed", event=record, by="stripe", loaded=loaded)


def _canceled(order_id: str, intent: dict[str, Any], record: EventRecord) -> str:
    loaded = _own_order(order_id, intent)
    if loaded is None:
        return "ignored_mismatch"
    return orders.cancel_unpaid(order_id, reason="payment_canceled", event=record, by="stripe", loaded=loaded)
