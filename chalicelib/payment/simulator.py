"""Local and test runs: play the people and banks around the simulated gateway, and deliver the signed
webhooks Stripe would.

- the customer: pay or fail a PaymentIntent (what Stripe.js does in a browser);
- the shop: finish or abandon onboarding, get restricted, disconnect from the mall;
- the bank: pay a bank payout, or send it back.

Each change is followed by the event Stripe sends, signed with the endpoint's secret and POSTed to the
mall's own webhook URL (MALL_WEBHOOK_URL / MALL_CONNECT_WEBHOOK_URL), or handed to ``deliver`` in-process.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Callable
from typing import Any, Literal

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.ids import random_token
from chalicelib.payment.gateway import PaymentProviderFailed
from chalicelib.payment.simulated_gateway import SimulatedGateway
from chalicelib.payment.webhooks import WebhookAck

Outcome = Literal["succeed", "fail"]
# Stripe's test card 4000 0000 0000 0002 declines with this error.
DECLINED = {
    "type": "card_error",
    "code": "card_declined",
    "decline_code": "generic_decline",
    "message": "Your card was declined.",
}
# Hands a signed payload to the webhook handler in-process: (raw body, Stripe-Signature) -> answer.
Deliver = Callable[[bytes, str], WebhookAck]


class PaymentIntentFinal(Conflict):
    code = "payment_intent_final"

    def __init__(self, payment_intent_id: str, status: str) -> None:
        super().__init__(
            f"This payment is already {status}.", payment_intent_id=payment_intent_id, status=status
        )


class SimulatedObjectNotFound(NotFound):
    code = "simulated_object_not_found"

    def __init__(self, kind: str, object_id: str) -> None:
        super().__init__(kind, object_id)


def finish_payment(payment_intent_id: str, outcome: Outcome, deliver: Deliver) -> WebhookAck:
    status = "succeeded" if outcome == "succeed" else "requires_payment_method"
    simulated = SimulatedGateway()
    try:
        intent = simulated.set_status(payment_intent_id, status, unless=("succeeded", "canceled"))
    except PaymentProviderFailed:
        raise SimulatedObjectNotFound("payment_intent", payment_intent_id) from None
    if intent.status in ("succeeded", "canceled") and intent.status != status:
        # As with Stripe.js: a cancelled intent cannot be paid, a paid one cannot fail.
        raise PaymentIntentFinal(payment_intent_id, intent.status)
    stored = simulated.load_intent(payment_intent_id)
    obj = {
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount,
        "currency": intent.currency,
        "status": intent.status,
        "transfer_group": stored.transfer_group,
        "latest_charge": intent.latest_charge,
        "metadata": {"order_id": stored.order_id},
    }
    if outcome == "fail":
        # As Stripe sends it: the intent stays open (requires_payment_method) for another card.
        obj["last_payment_error"] = DECLINED
    kind = "payment_intent.succeeded" if outcome == "succeed" else "payment_intent.payment_failed"
    return _send(_event(kind, obj), connect=False, deliver=deliver)


# --- the shop's onboarding ------------------------------------------------------------------------


def complete_onboarding(account_id: str, deliver: Deliver) -> WebhookAck:
    """The shop gave Stripe everything: payouts enabled, transfers active."""
    return _update_account(
        account_id,
        deliver,
        details_submitted=True,
        charges_enabled=True,
        payouts_enabled=True,
        transfers="active",
        currently_due=[],
        disabled_reason=None,
    )


def restrict(account_id: str, deliver: Deliver, reason: str = "requirements.past_due") -> WebhookAck:
    """Stripe holds the account back until the shop sends more (e.g. an identity document)."""
    return _update_account(
        account_id,
        deliver,
        payouts_enabled=False,
        transfers="inactive",
        currently_due=["individual.verification.document"],
        disabled_reason=reason,
    )


def disconnect(account_id: str, deliver: Deliver) -> WebhookAck:
    """The shop removes the mall's access to its Stripe account."""
    _account(account_id)
    SimulatedGateway().update_account(account_id, deauthorized=True)
    return _send(
        _event(
            "account.application.deauthorized",
            {"id": f"ca_sim{random_token(12)}", "object": "application"},
            account_id,
        ),
        connect=True,
        deliver=deliver,
    )


def _update_account(account_id: str, deliver: Deliver, **changes: Any) -> WebhookAck:
    _account(account_id)
    simulated = SimulatedGateway()
    simulated.update_account(account_id, **changes)
    snapshot = simulated.retrieve_connect_account(account_id)
    obj = {
        "id": account_id,
        "object": "account",
        "details_submitted": snapshot.details_submitted,
        "charges_enabled": snapshot.charges_enabled,
        "payouts_enabled": snapshot.payouts_enabled,
        "capabilities": {"transfers": snapshot.transfers, "card_payments": snapshot.transfers},
        "requirements": {
            "currently_due": list(snapshot.currently_due),
            "disabled_reason": snapshot.disabled_reason,
        },
    }
    return _send(_event("account.updated", obj, account_id), connect=True, deliver=deliver)


def _account(account_id: str) -> None:
    try:
        SimulatedGateway().load_object("account", account_id, "simulator")
    except PaymentProviderFailed:
        raise SimulatedObjectNotFound("account", account_id) from None


# --- the bank -------------------------------------------------------------------------------------


def settle_bank_payout(bank_payout_id: str, paid: bool, deliver: Deliver) -> WebhookAck:
    simulated = SimulatedGateway()
    try:
        stored = simulated.load_object("payout", bank_payout_id, "simulator")
    except PaymentProviderFailed:
        raise SimulatedObjectNotFound("bank_payout", bank_payout_id) from None
    bank = simulated.settle_bank_payout(bank_payout_id, paid)
    obj = {
        "id": bank.id,
        "object": "payout",
        "amount": bank.amount,
        "currency": "eur",
        "status": bank.status,
        "failure_code": bank.failure_code,
        "metadata": stored.data.get("metadata") or {},
    }
    kind = "payout.paid" if paid else "payout.failed"
    return _send(_event(kind, obj, stored.data["account"]), connect=True, deliver=deliver)


# --- delivery -------------------------------------------------------------------------------------


def _event(kind: str, obj: dict[str, Any], account: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": f"evt_sim{random_token(20)}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }
    if account:
        event["account"] = account
    return event


def _send(event: dict[str, Any], *, connect: bool, deliver: Deliver) -> WebhookAck:
    import stripe

    from chalicelib.payment.secrets import connect_webhook_secret, webhook_secret

    payload = json.dumps(event)
    secret = connect_webhook_secret() if connect else webhook_secret()
    signature = stripe.WebhookSignature.generate_signature_header(payload, secret)
    url = os.environ.get("MALL_CONNECT_WEBHOOK_URL" if connect else "MALL_WEBHOOK_URL")
    if not url:
        return deliver(payload.encode(), signature)
    request = urllib.request.Request(
        url,
        data=payload.encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.loads(response.read())
    return WebhookAck(bool(body["received"]), str(body["outcome"]))
