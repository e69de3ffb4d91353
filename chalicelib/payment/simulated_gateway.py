"""The simulated gateway: Stripe's behaviour for the calls the mall makes (ids, client secrets, statuses,
idempotency keys compared with their parameters, balances of connected accounts), kept in the mall table
so every process of a local run (chalice local, the jobs, the tests) sees the same objects.

Selected by PAYMENT_GATEWAY=simulated (local runs and tests). chalicelib/payment/simulator.py plays the
customer, the shop's onboarding and the bank on top of it, and delivers the signed webhooks. Payments and
refunds here; Connect in simulated_connect.py; storage and idempotency keys in simulated_store.py.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.core.ids import random_token
from chalicelib.payment.gateway import PaymentIntent, PaymentProviderFailed, ProviderRefund
from chalicelib.payment.models import SimulatedIntent
from chalicelib.payment.simulated_connect import SimulatedConnect
from chalicelib.payment.simulated_store import key_item, params_fingerprint, refused

# Stripe's standard price for European cards: 1.5 % + 25 cents.
FEE_BPS, FEE_FIXED_CENTS = 150, 25
_REFUND_TRIES = 10
# The tests read the simulator's keys as the mall's code does.
_key_item = key_item


class SimulatedGateway(SimulatedConnect):
    # --- payments -----------------------------------------------------------------------------------

    def create_payment_intent(
        self,
        *,
        amount_cents: int,
        currency: str,
        transfer_group: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> PaymentIntent:
        fingerprint = params_fingerprint([amount_cents, currency, transfer_group, metadata])
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
        return _intent_of(self.load_intent(payment_intent_id))

    def set_status(self, payment_intent_id: str, status: str, unless: tuple[str, ...] = ()) -> PaymentIntent:
        """Moves the intent to ``status`` unless it is in one of ``unless``, in one conditional write, so a
        pay and a cancel racing end with one of them, as on Stripe."""
        intent = self.load_intent(payment_intent_id)
        if intent.status not in unless:
            condition = SimulatedIntent.status.is_in(*unless) if unless else None
            try:
                intent.update(
                    actions=[SimulatedIntent.status.set(status)],
                    condition=~condition if condition is not None else None,
                )
            except UpdateError as error:
                if error.cause_response_code != "ConditionalCheckFailedException":
                    raise
                intent = self.load_intent(payment_intent_id)
        return _intent_of(intent)

    def load_intent(self, payment_intent_id: str) -> Any:
        try:
            return SimulatedIntent.get(f"SIMPI#{payment_intent_id}", "INTENT", consistent_read=True)
        except SimulatedIntent.DoesNotExist:
            raise refused("retrieve", "resource_missing") from None

    def create_refund(
        self, payment_intent_id: str, amount_cents: int, *, idempotency_key: str, metadata: dict[str, str]
    ) -> ProviderRefund:
        """Like Stripe: one refund per idempotency key (the same one on a retry), never more than was
        paid, only for a succeeded intent."""
        refund_id = "re_sim" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        try:
            seen = SimulatedIntent.get(f"SIMRE#{refund_id}", "REFUND", consistent_read=True)
            return ProviderRefund(refund_id, seen.status, int(seen.amount))
        except SimulatedIntent.DoesNotExist:
            pass
        # Stripe takes concurrent refunds of one charge one after the other: so does the simulator (a
        # conditional write on the refunded amount, read again when another refund got there first).
        for _ in range(_REFUND_TRIES):
            intent = self.load_intent(payment_intent_id)
            if intent.status != "succeeded" or amount_cents <= 0:
                raise refused("refund", "charge_not_refundable")
            refunded = int(intent.refunded_amount or 0)
            if refunded + amount_cents > int(intent.amount):
                raise refused("refund", "amount_too_large")  # Stripe: more than the unrefunded amount
            read = (
                SimulatedIntent.refunded_amount.does_not_exist()
                if intent.refunded_amount is None
                else SimulatedIntent.refunded_amount == refunded
            )
            try:
                intent.update(
                    actions=[SimulatedIntent.refunded_amount.set(refunded + amount_cents)], condition=read
                )
                break
            except UpdateError:
                continue
        else:
            raise PaymentProviderFailed("refund")  # Stripe's lock_timeout: no refund made, retry later
        SimulatedIntent(
            f"SIMRE#{refund_id}",
            "REFUND",
            payment_intent_id=payment_intent_id,
            status="succeeded",
            amount=amount_cents,
            order_id=metadata.get("order_id", ""),
        ).save()
        return ProviderRefund(refund_id, "succeeded", amount_cents)

    def charge_fee(self, charge_id: str) -> int | None:
        intent = self.load_intent("pi_" + charge_id.removeprefix("ch_"))
        amount = int(intent.amount)
        return (amount * FEE_BPS + 5_000) // 10_000 + FEE_FIXED_CENTS


def _intent_of(item: Any) -> PaymentIntent:
    charge = f"ch_{item.payment_intent_id.removeprefix('pi_')}" if item.status == "succeeded" else None
    return PaymentIntent(
        item.payment_intent_id,
        item.client_secret,
        item.status,
        int(item.amount),
        item.currency,
        metadata={"order_id": item.order_id} if item.order_id else {},
        latest_charge=charge,
    )
