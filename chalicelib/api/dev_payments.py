"""The simulated gateway's controls and the order event feed. Imported (and so registered) only when
PAYMENT_GATEWAY=simulated: the local stack and tests; a stage with real Stripe has no such routes."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.routing import endpoint
from chalicelib.order.schemas import EventQuery, OrderEventPage
from chalicelib.payment.webhooks import WebhookAck

simulated_payments = Blueprint(__name__)


@endpoint(
    simulated_payments,
    "POST",
    "/dev/payments/{payment_intent_id}/succeed",
    summary="Simulated gateway: the customer pays; a signed webhook is delivered",
    tag="Development",
    response=WebhookAck,
)
def simulate_success(payment_intent_id: str) -> WebhookAck:
    from chalicelib.payment.simulator import finish_payment

    return finish_payment(payment_intent_id, "succeed")


@endpoint(
    simulated_payments,
    "POST",
    "/dev/payments/{payment_intent_id}/fail",
    summary="Simulated gateway: the payment fails; a signed webhook is delivered",
    tag="Development",
    response=WebhookAck,
)
def simulate_failure(payment_intent_id: str) -> WebhookAck:
    from chalicelib.payment.simulator import finish_payment

    return finish_payment(payment_intent_id, "fail")


@endpoint(
    simulated_payments,
    "GET",
    "/dev/events",
    summary="Order events recorded today (and yesterday), newest first: what notifications will send",
    tag="Development",
    query=EventQuery,
    response=OrderEventPage,
)
def recent_events(query: EventQuery) -> OrderEventPage:
    from chalicelib.order.events import recent_events

    return recent_events(query.limit)
