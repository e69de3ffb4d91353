"""Stripe's webhook endpoint."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.routing import endpoint
from chalicelib.payment.webhooks import WebhookAck, handle_stripe_webhook

payments = Blueprint(__name__)


@endpoint(
    payments,
    "POST",
    "/webhooks/stripe",
    summary="Stripe events (signed)",
    tag="Webhooks",
    headers=("Stripe-Signature",),
    raw_body=True,
    response=WebhookAck,
    errors=(400,),
)
def stripe_webhook(headers: dict[str, str | None], raw_body: bytes) -> WebhookAck:
    return handle_stripe_webhook(raw_body, headers["stripe-signature"])
