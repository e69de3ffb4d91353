"""Stripe's two webhook endpoints: the platform's (payments, refunds, disputes) and Connect's (the
shops' accounts and bank payouts), each with its own signing secret. Verified on the raw body, then
dispatched to the domain that owns the event; unknown types are acknowledged and ignored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from chalicelib.api.routing import endpoint
from chalicelib.core.log import logger
from chalicelib.payment.webhooks import WebhookAck

TAG = "Webhooks"

# What each Stripe endpoint must be subscribed to: the README's Deploying section lists these two, and a
# test holds them to it (tests/unit/test_webhook_events.py). Anything else is acknowledged and ignored.
PLATFORM_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
    "refund.updated",
    "charge.dispute.created",
    "charge.dispute.closed",
)
CONNECT_EVENTS = (
    "account.updated",
    "capability.updated",
    "account.application.deauthorized",
    "payout.paid",
    "payout.failed",
)


@endpoint(
    "POST",
    "/webhooks/stripe",
    summary="Stripe platform events (signed): payments, refunds, disputes",
    tag=TAG,
    headers=("Stripe-Signature",),
    raw_body=True,
    response=WebhookAck,
    errors=(400,),
)
def stripe_webhook(headers: dict[str, str | None], raw_body: bytes) -> WebhookAck:
    with _logged_if_malformed("platform"):
        return handle_stripe_webhook(raw_body, headers["stripe-signature"])


@endpoint(
    "POST",
    "/webhooks/stripe-connect",
    summary="Stripe Connect events (signed with the Connect endpoint's own secret): accounts, bank payouts",
    tag=TAG,
    headers=("Stripe-Signature",),
    raw_body=True,
    response=WebhookAck,
    errors=(400,),
)
def stripe_connect_webhook(headers: dict[str, str | None], raw_body: bytes) -> WebhookAck:
    with _logged_if_malformed("connect"):
        return handle_connect_webhook(raw_body, headers["stripe-signature"])


@contextmanager
def _logged_if_malformed(endpoint: str) -> Iterator[None]:
    """A signed event we cannot read is answered 400 (Stripe would retry a 500 for days), and logged: it is
    Stripe's data or our reading of it that is wrong, and nobody else will notice."""
    from chalicelib.payment.webhooks import MalformedEvent

    try:
        yield
    except MalformedEvent as error:
        fields = [problem.field for problem in error.problems]
        logger.warning("malformed stripe event", extra={"endpoint": endpoint, "fields": fields})
        raise


def handle_stripe_webhook(raw_body: bytes, signature: str | None) -> WebhookAck:
    from chalicelib.order.payment_events import (
        PAYMENT_EVENTS,
        REFUND_EVENTS,
        payment_intent_event,
        refund_event,
    )
    from chalicelib.payment.secrets import webhook_secret
    from chalicelib.payment.webhooks import text, verified_event
    from chalicelib.payout.platform_events import DISPUTE_EVENTS, dispute_event, record_processing_fee

    event = verified_event(raw_body, signature, webhook_secret())
    kind = event["type"]
    if kind in PAYMENT_EVENTS:
        outcome = payment_intent_event(event)
        if outcome == "paid":
            intent = event["data"]["object"]
            record_processing_fee(intent["metadata"]["order_id"], text(intent.get("latest_charge")))
    elif kind in REFUND_EVENTS:
        outcome = refund_event(event)
    elif kind in DISPUTE_EVENTS:
        outcome = dispute_event(event)
    else:
        outcome = "ignored_event_type"
    logger.info("stripe webhook", extra={"event_id": event["id"], "type": kind, "outcome": outcome})
    return WebhookAck(True, outcome)


def handle_connect_webhook(raw_body: bytes, signature: str | None) -> WebhookAck:
    from chalicelib.payment.secrets import connect_webhook_secret
    from chalicelib.payment.webhooks import verified_event
    from chalicelib.payout.connect_events import connect_event

    event = verified_event(raw_body, signature, connect_webhook_secret())
    outcome = connect_event(event)
    logger.info(
        "stripe connect webhook", extra={"event_id": event["id"], "type": event["type"], "outcome": outcome}
    )
    return WebhookAck(True, outcome)
