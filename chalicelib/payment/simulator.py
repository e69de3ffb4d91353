"""Local and test runs: finish a simulated PaymentIntent the way a customer would with Stripe.js, and
deliver the resulting signed webhook to the mall's webhook endpoint, as Stripe would."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import Literal

from chalicelib.core.errors import Conflict
from chalicelib.core.ids import random_token
from chalicelib.payment.gateway import SimulatedGateway
from chalicelib.payment.webhooks import WebhookAck, handle_stripe_webhook

Outcome = Literal["succeed", "fail"]


class PaymentIntentFinal(Conflict):
    code = "payment_intent_final"

    def __init__(self, payment_intent_id: str, status: str) -> None:
        super().__init__(
            f"This payment is already {status}.", payment_intent_id=payment_intent_id, status=status
        )


def finish_payment(payment_intent_id: str, outcome: Outcome) -> WebhookAck:
    import stripe

    from chalicelib.payment.secrets import webhook_secret

    status = "succeeded" if outcome == "succeed" else "requires_payment_method"
    simulated = SimulatedGateway()
    intent = simulated.set_status(payment_intent_id, status, unless=("succeeded", "canceled"))
    if intent.status in ("succeeded", "canceled") and intent.status != status:
        # As with Stripe.js: a cancelled intent cannot be paid, a paid one cannot fail.
        raise PaymentIntentFinal(payment_intent_id, intent.status)
    stored = simulated._load(payment_intent_id)
    event = {
        "id": f"evt_sim{random_token(20)}",
        "object": "event",
        "type": "payment_intent.succeeded" if outcome == "succeed" else "payment_intent.payment_failed",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {
                "id": intent.id,
                "object": "payment_intent",
                "amount": intent.amount,
                "currency": intent.currency,
                "status": intent.status,
                "transfer_group": stored.transfer_group,
                "metadata": {"order_id": stored.order_id},
            }
        },
    }
    payload = json.dumps(event)
    signature = stripe.WebhookSignature.generate_signature_header(payload, webhook_secret())
    url = os.environ.get("MALL_WEBHOOK_URL")
    if not url:
        return handle_stripe_webhook(payload.encode(), signature)
    request = urllib.request.Request(
        url,
        data=payload.encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.loads(response.read())
    return WebhookAck(bool(body["received"]), str(body["outcome"]))
