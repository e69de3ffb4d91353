"""The payment gateway port: what the mall asks of its payment provider, as plain typed values.

Two adapters implement it: `StripeGateway` (chalicelib/payment/stripe_gateway.py, the only code that
calls Stripe's API, imported lazily so catalogue requests never pay for stripe) and `SimulatedGateway`
(chalicelib/payment/simulated_gateway.py), which behaves like Stripe for the calls the mall makes and is
selected by PAYMENT_GATEWAY=simulated for local runs and tests.

Every write carries an idempotency key derived from the mall's own ids, so a retry after a crash asks for
the same thing and the provider does it once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

from chalicelib.core import metrics
from chalicelib.core.config import payments_simulated
from chalicelib.core.errors import UpstreamFailure


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    client_secret: str
    status: str  # Stripe's: requires_payment_method, processing, succeeded, canceled, ...
    amount: int
    currency: str
    metadata: dict[str, str] = field(default_factory=dict, compare=False)
    latest_charge: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    status: str  # Stripe's: pending, requires_action, succeeded, failed, canceled
    amount: int


@dataclass(frozen=True)
class ConnectAccount:
    """A shop's connected account as the provider sees it now."""

    id: str
    country: str
    details_submitted: bool
    charges_enabled: bool
    payouts_enabled: bool
    transfers: str  # the transfers capability: active, inactive, pending (or "unrequested")
    currently_due: tuple[str, ...] = ()
    disabled_reason: str | None = None
    deauthorized: bool = False


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: int
    amount_reversed: int = 0


@dataclass(frozen=True)
class TransferReversal:
    id: str
    amount: int


@dataclass(frozen=True)
class BankPayout:
    """Money leaving a connected account's balance for the shop's bank."""

    id: str
    status: str  # Stripe's: pending, in_transit, paid, failed, canceled
    amount: int
    failure_code: str | None = None


class PaymentProviderFailed(UpstreamFailure):
    """The provider did not do what was asked. ``refused``: it answered, and nothing was done (a 4xx: a
    declined card, an account that cannot receive, a balance too low), so the same request will fail the
    same way. Otherwise the outcome is unknown (no answer, a 5xx, a rate limit): ask again with the same
    idempotency key. ``reason`` is the provider's error code, for the record; never shown with secrets."""

    code = "payment_provider_failed"

    def __init__(self, operation: str, refused: bool = False, reason: str | None = None) -> None:
        super().__init__(
            "The payment provider did not answer correctly; nothing was charged.", operation=operation
        )
        self.refused = refused
        self.reason = reason
        # Counted where every adapter and caller raises it: each failure once (README, "Observability").
        metrics.count("PaymentProviderErrors")


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

    def charge_fee(self, charge_id: str) -> int | None: ...

    # --- Connect: shops' accounts and the money moved to them ---

    def create_connect_account(
        self, *, shop_id: str, country: str, email: str | None, idempotency_key: str
    ) -> ConnectAccount: ...

    def retrieve_connect_account(self, account_id: str) -> ConnectAccount: ...

    def create_account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str: ...

    def create_login_link(self, account_id: str) -> str: ...

    def create_transfer(
        self,
        *,
        amount_cents: int,
        currency: str,
        destination: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Transfer: ...

    def reverse_transfer(
        self, transfer_id: str, *, amount_cents: int, metadata: dict[str, str], idempotency_key: str
    ) -> TransferReversal: ...

    def create_bank_payout(
        self,
        account_id: str,
        *,
        amount_cents: int,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> BankPayout: ...

    def retrieve_bank_payout(self, account_id: str, payout_id: str) -> BankPayout: ...


@cache
def gateway() -> PaymentGateway:
    if payments_simulated():
        from chalicelib.payment.simulated_gateway import SimulatedGateway

        return SimulatedGateway()
    from chalicelib.payment.secrets import stripe_secret_key
    from chalicelib.payment.stripe_gateway import StripeGateway

    return StripeGateway(stripe_secret_key(), os.environ.get("STRIPE_API_BASE") or None)
