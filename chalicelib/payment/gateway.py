"""The payment gateway port and its two adapters.

`StripeGateway` is the only code that imports `stripe` (lazily: catalogue requests never pay for it).
`SimulatedGateway` behaves like Stripe for the calls the mall makes (ids, client secrets, statuses,
idempotency keys, signed webhooks) and is selected by PAYMENT_GATEWAY=simulated for local runs and tests.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.core.errors import UpstreamFailure


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    client_secret: str
    status: str  # Stripe's: requires_payment_method, processing, succeeded, canceled, ...
    amount: int
    currency: str


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    status: str  # Stripe's: pending, requires_action, succeeded, failed, canceled
    amount: int


class PaymentProviderFailed(UpstreamFailure):
    code = "payment_provider_failed"

    def __init__(self, operation: str) -> None:
        super().__init__(
            "The payment provider did not answer correctly; nothing was charged.", operation=operation
        )


class PaymentGateway(Protocol):
    def create_payment_intent(
        self,
        *,
        amount_cents: int,
        currency: str,
        transfer_group: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> PaymentIntent: ...

    def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> PaymentIntent: ...

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent: ...

    def create_refund(
        self, payment_intent_id: str, amount_cents: int, *, idempotency_key: str, metadata: dict[str, str]
    ) -> ProviderRefund: ...


class StripeGateway:
    def __init__(self, api_key: str, api_base: str | None = None) -> None:
        import stripe

        self._stripe = stripe
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=2,  # stripe-python retries with the same idempotency key
        )

    def create_payment_intent(
        self,
        *,
        amount_cents: int,
        currency: str,
        transfer_group: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> PaymentIntent:
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": currency.lower(),
            "transfer_group": transfer_group,
            "metadata": metadata,
            "automatic_payment_methods": {"enabled": True},
        }
        return self._call(
            "create",
            lambda: self._client.v1.payment_intents.create(
                params=params, options={"idempotency_key": idempotency_key}
            ),
        )  # type: ignore[arg-type]

    def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        try:
            return self._call(
                "cancel",
                lambda: self._client.v1.payment_intents.cancel(
                    payment_intent_id, options={"idempotency_key": idempotency_key}
                ),
            )
        except PaymentProviderFailed:
            # Stripe refuses to cancel an intent that already succeeded or was canceled: report its state.
            return self.retrieve_payment_intent(payment_intent_id)

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        return self._call("retrieve", lambda: self._client.v1.payment_intents.retrieve(payment_intent_id))

    def create_refund(
        self, payment_intent_id: str, amount_cents: int, *, idempotency_key: str, metadata: dict[str, str]
    ) -> ProviderRefund:
        params: dict[str, Any] = {
            "payment_intent": payment_intent_id,
            "amount": amount_cents,
            "metadata": metadata,
        }
        try:
            refund = self._client.v1.refunds.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        except self._stripe.StripeError:
            raise PaymentProviderFailed("refund") from None
        return ProviderRefund(refund.id, refund.status or "pending", refund.amount)

    def _call(self, operation: str, request: Any) -> PaymentIntent:
        try:
            intent = request()
        except self._stripe.StripeError:
            raise PaymentProviderFailed(operation) from None
        return PaymentIntent(
            intent.id, intent.client_secret or "", intent.status, intent.amount, intent.currency
        )


class SimulatedGateway:
    """Stripe's behaviour for our calls, stored in the mall table (see SimulatedIntent)."""

    def create_payment_intent(
        self,
        *,
        amount_cents: int,
        currency: str,
        transfer_group: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> PaymentIntent:
        from chalicelib.core.ids import random_token
        from chalicelib.payment.models import SimulatedIntent

        fingerprint = hashlib.sha256(
            json.dumps([amount_cents, currency, transfer_group, metadata], sort_keys=True).encode()
        ).hexdigest()
        try:
            seen = SimulatedIntent.get(f"SIMKEY#{idempotency_key}", "KEY", consistent_read=True)
        except SimulatedIntent.DoesNotExist:
            seen = None
        if seen is not None:
            if seen.fingerprint != fingerprint:
                raise PaymentProviderFailed("create")  # Stripe: idempotency key reused with other params
            return self.retrieve_payment_intent(seen.payment_intent_id)
        intent_id = f"pi_sim{random_token(20)}"
        intent = SimulatedIntent(
            f"SIMPI#{intent_id}",
            "INTENT",
            payment_intent_id=intent_id,
            status="requires_payment_method",
            amount=amount_cents,
            currency=currency.lower(),
            client_secret=f"{intent_id}_secret_{random_token(24)}",
            transfer_group=transfer_group,
            order_id=metadata.get("order_id", ""),
        )
        intent.save()
        claim = SimulatedIntent(
            f"SIMKEY#{idempotency_key}", "KEY", payment_intent_id=intent_id, fingerprint=fingerprint
        )
        try:
            # Two concurrent requests with one key must get one intent, as with Stripe: first claim wins.
            claim.save(condition=SimulatedIntent.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            intent.delete()
            return self.create_payment_intent(
                amount_cents=amount_cents,
                currency=currency,
                transfer_group=transfer_group,
                metadata=metadata,
                idempotency_key=idempotency_key,
            )
        return _intent_of(intent)

    def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        return self.set_status(payment_intent_id, "canceled", unless=("succeeded", "canceled"))

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        return _intent_of(self._load(payment_intent_id))

    def set_status(self, payment_intent_id: str, status: str, unless: tuple[str, ...] = ()) -> PaymentIntent:
        from chalicelib.payment.models import SimulatedIntent

        intent = self._load(payment_intent_id)
        if intent.status not in unless:
            intent.update(actions=[SimulatedIntent.status.set(status)])
        return _intent_of(intent)

    def _load(self, payment_intent_id: str) -> Any:
        from chalicelib.payment.models import SimulatedIntent

        try:
            return SimulatedIntent.get(f"SIMPI#{payment_intent_id}", "INTENT", consistent_read=True)
        except SimulatedIntent.DoesNotExist:
            raise PaymentProviderFailed("retrieve") from None

    def create_refund(
        self, payment_intent_id: str, amount_cents: int, *, idempotency_key: str, metadata: dict[str, str]
    ) -> ProviderRefund:
        """Like Stripe: one refund per idempotency key (the same one on a retry), never more than was
        paid, only for a succeeded intent."""
        from chalicelib.payment.models import SimulatedIntent

        refund_id = "re_sim" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        try:
            seen = SimulatedIntent.get(f"SIMRE#{refund_id}", "REFUND", consistent_read=True)
            return ProviderRefund(refund_id, seen.status, int(seen.amount))
        except SimulatedIntent.DoesNotExist:
            pass
        intent = self._load(payment_intent_id)
        if intent.status != "succeeded" or amount_cents <= 0:
            raise PaymentProviderFailed("refund")
        refunded = int(intent.refunded_amount or 0)
        if refunded + amount_cents > int(intent.amount):
            raise PaymentProviderFailed("refund")  # Stripe: amount greater than unrefunded amount
        read = (
            SimulatedIntent.refunded_amount.does_not_exist()
            if intent.refunded_amount is None
            else SimulatedIntent.refunded_amount == refunded
        )
        try:
            intent.update(
                actions=[SimulatedIntent.refunded_amount.set(refunded + amount_cents)], condition=read
            )
        except UpdateError:
            raise PaymentProviderFailed("refund") from None
        SimulatedIntent(
            f"SIMRE#{refund_id}",
            "REFUND",
            payment_intent_id=payment_intent_id,
            status="succeeded",
            amount=amount_cents,
            order_id=metadata.get("order_id", ""),
        ).save()
        return ProviderRefund(refund_id, "succeeded", amount_cents)


def _intent_of(item: Any) -> PaymentIntent:
    return PaymentIntent(
        item.payment_intent_id, item.client_secret, item.status, int(item.amount), item.currency
    )


def simulated() -> bool:
    return os.environ.get("PAYMENT_GATEWAY", "stripe") == "simulated"


@cache
def gateway() -> PaymentGateway:
    if simulated():
        return SimulatedGateway()
    from chalicelib.payment.secrets import stripe_secret_key

    return StripeGateway(stripe_secret_key(), os.environ.get("STRIPE_API_BASE") or None)
