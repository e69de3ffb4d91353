"""The Stripe adapter: the only code that calls Stripe's API (stripe-python's StripeClient), turning its
objects into the port's plain values and its errors into PaymentProviderFailed. Imported on first use
only: catalogue requests never load stripe."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib.payment.gateway import (
    BankPayout,
    ConnectAccount,
    PaymentIntent,
    PaymentProviderFailed,
    ProviderRefund,
    Transfer,
    TransferReversal,
)

T = TypeVar("T")


class StripeGateway:
    def __init__(self, api_key: str, api_base: str | None = None) -> None:
        import stripe

        self._stripe = stripe
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=2,  # stripe-python retries with the same idempotency key
        )
        # Stripe answered about this request and did nothing: asking again the same way fails the same way.
        # Not a 401: that is the mall's own key (revoked, rotated), to be fixed and retried, never a
        # verdict on a shop's account. Not an idempotency error either: the first request with that key
        # may have done something, so it stays "unknown" (and alarms) rather than being given up on.
        self._refusals = (stripe.CardError, stripe.InvalidRequestError, stripe.PermissionError)

    # --- payments ---

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
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            ),
            _intent,
        )

    def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        try:
            return self._call(
                "cancel",
                lambda: self._client.v1.payment_intents.cancel(
                    payment_intent_id, options={"idempotency_key": idempotency_key}
                ),
                _intent,
            )
        except PaymentProviderFailed:
            # Stripe refuses to cancel an intent that already succeeded or was canceled: report its state.
            return self.retrieve_payment_intent(payment_intent_id)

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        return self._call(
            "retrieve", lambda: self._client.v1.payment_intents.retrieve(payment_intent_id), _intent
        )

    def create_refund(
        self, payment_intent_id: str, amount_cents: int, *, idempotency_key: str, metadata: dict[str, str]
    ) -> ProviderRefund:
        params: dict[str, Any] = {
            "payment_intent": payment_intent_id,
            "amount": amount_cents,
            "metadata": metadata,
        }
        return self._call(
            "refund",
            lambda: self._client.v1.refunds.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            ),
            lambda r: ProviderRefund(r.id, r.status or "pending", r.amount),
        )

    def charge_fee(self, charge_id: str) -> int | None:
        """Stripe's processing fee of a charge, from its balance transaction (None while it has none)."""
        charge = self._call(
            "charge_fee",
            lambda: self._client.v1.charges.retrieve(charge_id, params={"expand": ["balance_transaction"]}),
            lambda c: c,
        )
        transaction = getattr(charge, "balance_transaction", None)
        fee = getattr(transaction, "fee", None)
        return int(fee) if isinstance(fee, int) else None

    # --- Connect ---

    def create_connect_account(
        self, *, shop_id: str, country: str, email: str | None, idempotency_key: str
    ) -> ConnectAccount:
        params: dict[str, Any] = {
            "type": "express",
            "country": country,
            # card_payments with transfers: transfers alone means the recipient service agreement, which
            # Stripe refuses for many platform/account country pairs.
            "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
            # The mall pays each payout out to the bank itself, right after its transfer, so a bank payout
            # (and its payout.paid / payout.failed) matches one statement.
            "settings": {"payouts": {"schedule": {"interval": "manual"}}},
            "metadata": {"shop_id": shop_id},
        }
        if email:
            params["email"] = email  # prefills onboarding; Stripe keeps it, we never log it
        return self._call(
            "create_account",
            lambda: self._client.v1.accounts.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            ),
            _account,
        )

    def retrieve_connect_account(self, account_id: str) -> ConnectAccount:
        return self._call("retrieve_account", lambda: self._client.v1.accounts.retrieve(account_id), _account)

    def create_account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        # Single-use and short-lived, so each request makes a new one: no idempotency key of ours (moves no
        # money; stripe-python's own retries carry a generated key).
        params: dict[str, Any] = {
            "account": account_id,
            "type": "account_onboarding",
            "refresh_url": refresh_url,
            "return_url": return_url,
        }
        return self._call(
            "account_link",
            lambda: self._client.v1.account_links.create(params=params),  # type: ignore[arg-type]
            lambda link: str(link.url),
        )

    def create_login_link(self, account_id: str) -> str:
        return self._call(
            "login_link",
            lambda: self._client.v1.accounts.login_links.create(account_id),
            lambda link: str(link.url),
        )

    def create_transfer(
        self,
        *,
        amount_cents: int,
        currency: str,
        destination: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Transfer:
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": currency.lower(),
            "destination": destination,
            "metadata": metadata,
        }
        return self._call(
            "transfer",
            lambda: self._client.v1.transfers.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            ),
            lambda t: Transfer(t.id, t.amount, getattr(t, "amount_reversed", 0) or 0),
        )

    def reverse_transfer(
        self, transfer_id: str, *, amount_cents: int, metadata: dict[str, str], idempotency_key: str
    ) -> TransferReversal:
        params: dict[str, Any] = {"amount": amount_cents, "metadata": metadata}
        return self._call(
            "reverse_transfer",
            lambda: self._client.v1.transfers.reversals.create(
                transfer_id,
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            ),
            lambda r: TransferReversal(r.id, r.amount),
        )

    def create_bank_payout(
        self,
        account_id: str,
        *,
        amount_cents: int,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> BankPayout:
        params: dict[str, Any] = {"amount": amount_cents, "currency": currency.lower(), "metadata": metadata}
        return self._call(
            "bank_payout",
            lambda: self._client.v1.payouts.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key, "stripe_account": account_id},
            ),
            _bank_payout,
        )

    def retrieve_bank_payout(self, account_id: str, payout_id: str) -> BankPayout:
        return self._call(
            "retrieve_bank_payout",
            lambda: self._client.v1.payouts.retrieve(payout_id, options={"stripe_account": account_id}),
            _bank_payout,
        )

    def _call(self, operation: str, request: Callable[[], Any], read: Callable[[Any], T]) -> T:
        try:
            answer = request()
        except self._refusals as error:
            raise PaymentProviderFailed(operation, refused=True, reason=_reason(error)) from None
        except self._stripe.StripeError as error:
            raise PaymentProviderFailed(operation, reason=_reason(error)) from None
        try:
            return read(answer)
        except (AttributeError, KeyError, TypeError, ValueError):
            # A success we cannot read (a field missing): whether it happened is unknown, ask again.
            raise PaymentProviderFailed(operation, reason="unreadable_answer") from None


def _reason(error: Any) -> str:
    """Stripe's error code: stripe-python sets ``.code`` only for card and invalid-request errors; the
    others carry it in the parsed error body."""
    code = getattr(error, "code", None) or getattr(getattr(error, "error", None), "code", None)
    return str(code or type(error).__name__)


def _intent(intent: Any) -> PaymentIntent:
    metadata = getattr(intent, "metadata", None)
    return PaymentIntent(
        intent.id,
        intent.client_secret or "",
        intent.status,
        intent.amount,
        intent.currency,
        metadata=dict(metadata.to_dict()) if metadata is not None else {},
        latest_charge=_id_of(getattr(intent, "latest_charge", None)),
    )


def _id_of(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(getattr(value, "id", "")) or None


def _account(account: Any) -> ConnectAccount:
    capabilities = getattr(account, "capabilities", None)
    requirements = getattr(account, "requirements", None)
    return ConnectAccount(
        id=account.id,
        country=getattr(account, "country", None) or "",
        details_submitted=bool(getattr(account, "details_submitted", False)),
        charges_enabled=bool(getattr(account, "charges_enabled", False)),
        payouts_enabled=bool(getattr(account, "payouts_enabled", False)),
        transfers=str(getattr(capabilities, "transfers", None) or "unrequested"),
        currently_due=tuple(getattr(requirements, "currently_due", None) or ()),
        disabled_reason=getattr(requirements, "disabled_reason", None),
    )


def _bank_payout(payout: Any) -> BankPayout:
    return BankPayout(payout.id, payout.status, payout.amount, getattr(payout, "failure_code", None))
