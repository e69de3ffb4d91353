"""The simulated gateway: Stripe's behaviour for the calls the mall makes (ids, client secrets, statuses,
idempotency keys compared with their parameters, balances of connected accounts), kept in the mall table
so every process of a local run (chalice local, the jobs, the tests) sees the same objects.

Selected by PAYMENT_GATEWAY=simulated (local runs and tests). chalicelib/payment/simulator.py plays the
customer, the shop's onboarding and the bank on top of it, and delivers the signed webhooks.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from chalicelib.core.db import transaction
from chalicelib.core.ids import random_token
from chalicelib.payment.gateway import (
    BankPayout,
    ConnectAccount,
    PaymentIntent,
    PaymentProviderFailed,
    ProviderRefund,
    Transfer,
    TransferReversal,
)
from chalicelib.payment.models import SimulatedIntent, SimulatedObject

# Stripe's standard price for European cards: 1.5 % + 25 cents.
FEE_BPS, FEE_FIXED_CENTS = 150, 25
_REFUND_TRIES = 10


def _fingerprint(params: Any) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def _refused(operation: str, reason: str) -> PaymentProviderFailed:
    return PaymentProviderFailed(operation, refused=True, reason=reason)


class SimulatedGateway:
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
        fingerprint = _fingerprint([amount_cents, currency, transfer_group, metadata])
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
            raise _refused("retrieve", "resource_missing") from None

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
                raise _refused("refund", "charge_not_refundable")
            refunded = int(intent.refunded_amount or 0)
            if refunded + amount_cents > int(intent.amount):
                raise _refused("refund", "amount_too_large")  # Stripe: more than the unrefunded amount
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

    # --- Connect ------------------------------------------------------------------------------------

    def create_connect_account(
        self, *, shop_id: str, country: str, email: str | None, idempotency_key: str
    ) -> ConnectAccount:
        def build() -> tuple[str, dict[str, Any]]:
            data = {
                "country": country,
                "shop_id": shop_id,
                "details_submitted": False,
                "charges_enabled": False,
                "payouts_enabled": False,
                "transfers": "inactive",
                "currently_due": ["business_type", "external_account", "tos_acceptance.date"],
                "disabled_reason": "requirements.past_due",
                "deauthorized": False,
            }
            return f"acct_sim{random_token(16)}", data

        account_id = self._once("account", idempotency_key, [shop_id, country, email], build)
        return self.retrieve_connect_account(account_id)

    def retrieve_connect_account(self, account_id: str) -> ConnectAccount:
        data = self.load_object("account", account_id, "retrieve_account").data
        if data.get("deauthorized"):
            # Stripe: the platform no longer has access to a disconnected account.
            raise _refused("retrieve_account", "account_invalid")
        return _account_of(account_id, data)

    def create_account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        self.load_object("account", account_id, "account_link")
        query = urlencode({"refresh_url": refresh_url, "return_url": return_url})
        return f"{_base_url()}/dev/connect/accounts/{account_id}/onboarding?{query}"

    def create_login_link(self, account_id: str) -> str:
        account = self.retrieve_connect_account(account_id)
        if not account.details_submitted:
            raise _refused("login_link", "account_not_onboarded")
        return f"{_base_url()}/dev/connect/accounts/{account_id}/dashboard"

    def create_transfer(
        self,
        *,
        amount_cents: int,
        currency: str,
        destination: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Transfer:
        account = self.retrieve_connect_account(destination)
        if account.transfers != "active" or amount_cents <= 0:
            raise _refused("transfer", "transfers_not_allowed")
        data = {"amount": amount_cents, "destination": destination, "metadata": metadata}
        params = [amount_cents, currency.lower(), destination, metadata]
        transfer_id = self._once(
            "transfer",
            idempotency_key,
            params,
            lambda: (f"tr_sim{random_token(16)}", data),
            also=lambda tx: tx.update(
                SimulatedObject(*SimulatedObject.key_for("account", destination)),
                actions=[SimulatedObject.balance.add(amount_cents)],
            ),
        )
        stored = self.load_object("transfer", transfer_id, "transfer")
        return Transfer(transfer_id, int(stored.data["amount"]), int(stored.amount_reversed or 0))

    def reverse_transfer(
        self, transfer_id: str, *, amount_cents: int, metadata: dict[str, str], idempotency_key: str
    ) -> TransferReversal:
        """Like Stripe: never more than is left of the transfer, and only what the connected account's
        balance still covers (money already paid out to the bank cannot be pulled back this way)."""
        transfer = self.load_object("transfer", transfer_id, "reverse_transfer")
        total = int(transfer.data["amount"])
        account = self.load_object("account", transfer.data["destination"], "reverse_transfer")
        if _key_item(idempotency_key) is None:
            if amount_cents <= 0 or amount_cents > total - int(transfer.amount_reversed or 0):
                raise _refused("reverse_transfer", "amount_too_large")
            if int(account.balance or 0) < amount_cents:
                raise _refused("reverse_transfer", "insufficient_funds")

        def side_effects(tx: Any) -> None:
            tx.update(
                transfer,
                actions=[SimulatedObject.amount_reversed.add(amount_cents)],
                condition=SimulatedObject.amount_reversed.does_not_exist()
                | (SimulatedObject.amount_reversed <= total - amount_cents),
            )
            tx.update(
                account,
                actions=[SimulatedObject.balance.add(-amount_cents)],
                condition=SimulatedObject.balance >= amount_cents,
            )

        reversal_id = self._once(
            "reversal",
            idempotency_key,
            [transfer_id, amount_cents, metadata],
            lambda: (f"trr_sim{random_token(16)}", {"transfer": transfer_id, "amount": amount_cents}),
            also=side_effects,
        )
        return TransferReversal(reversal_id, amount_cents)

    def create_bank_payout(
        self,
        account_id: str,
        *,
        amount_cents: int,
        currency: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> BankPayout:
        account = self.retrieve_connect_account(account_id)
        if _key_item(idempotency_key) is None:
            if not account.payouts_enabled:
                raise _refused("bank_payout", "payouts_not_allowed")
            if self.balance(account_id) < amount_cents:
                raise _refused("bank_payout", "balance_insufficient")
        data = {"account": account_id, "amount": amount_cents, "metadata": metadata}
        payout_id = self._once(
            "payout",
            idempotency_key,
            [account_id, amount_cents, currency.lower(), metadata],
            lambda: (f"po_sim{random_token(16)}", data),
            also=lambda tx: tx.update(
                SimulatedObject(*SimulatedObject.key_for("account", account_id)),
                actions=[SimulatedObject.balance.add(-amount_cents)],
                condition=SimulatedObject.balance >= amount_cents,
            ),
        )
        return self.retrieve_bank_payout(account_id, payout_id)

    def retrieve_bank_payout(self, account_id: str, payout_id: str) -> BankPayout:
        item = self.load_object("payout", payout_id, "retrieve_bank_payout")
        if item.data["account"] != account_id:
            raise _refused("retrieve_bank_payout", "resource_missing")
        failure = "account_closed" if item.status == "failed" else None
        return BankPayout(payout_id, item.status or "pending", int(item.data["amount"]), failure)

    # --- the simulator's controls (chalicelib/payment/simulator.py) ---------------------------------

    def update_account(self, account_id: str, **changes: Any) -> None:
        item = self.load_object("account", account_id, "update_account")
        item.update(actions=[SimulatedObject.data.set({**item.data, **changes})])

    def settle_bank_payout(self, payout_id: str, paid: bool) -> BankPayout:
        """The bank's answer: paid, or failed (returned), which puts the money back on the account."""
        item = self.load_object("payout", payout_id, "settle_bank_payout")
        if item.status != "failed":  # a bank that returned the money does not pay it later
            with transaction() as tx:
                tx.update(
                    item,
                    actions=[SimulatedObject.status.set("paid" if paid else "failed")],
                    condition=SimulatedObject.status == item.status,
                )
                if not paid:
                    tx.update(
                        SimulatedObject(*SimulatedObject.key_for("account", item.data["account"])),
                        actions=[SimulatedObject.balance.add(int(item.data["amount"]))],
                    )
        return self.retrieve_bank_payout(item.data["account"], payout_id)

    def balance(self, account_id: str) -> int:
        return int(self.load_object("account", account_id, "balance").balance or 0)

    # --- storage ------------------------------------------------------------------------------------

    def _once(
        self,
        kind: str,
        idempotency_key: str,
        params: Any,
        build: Callable[[], tuple[str, dict[str, Any]]],
        also: Callable[[Any], Any] | None = None,
    ) -> str:
        """The object an idempotency key made, or a new one made with ``also`` (its side effects) in one
        transaction with the key's claim: the first request wins, as on Stripe."""
        fingerprint = _fingerprint([kind, params])
        seen = _key_item(idempotency_key)
        if seen is not None:
            if seen.fingerprint != fingerprint:
                raise PaymentProviderFailed(kind, reason="idempotency_key_in_use")
            return seen.object_id
        object_id, data = build()
        try:
            with transaction() as tx:
                tx.save(
                    SimulatedObject(
                        f"SIMKEY#{idempotency_key}", "CONNECT", object_id=object_id, fingerprint=fingerprint
                    ),
                    condition=SimulatedObject.pk.does_not_exist(),
                )
                item = SimulatedObject(
                    *SimulatedObject.key_for(kind, object_id), object_id=object_id, data=data
                )
                if kind == "account":
                    item.balance = 0
                elif kind == "payout":
                    item.status = "pending"
                tx.save(item)
                if also is not None:
                    also(tx)
        except TransactWriteError:
            seen = _key_item(idempotency_key)
            if seen is None:
                raise _refused(kind, "balance_insufficient") from None  # a side effect's condition failed
            if seen.fingerprint != fingerprint:
                raise PaymentProviderFailed(kind, reason="idempotency_key_in_use") from None
            return seen.object_id
        return object_id

    def load_object(self, kind: str, object_id: str, operation: str = "retrieve") -> SimulatedObject:
        try:
            return SimulatedObject.get(*SimulatedObject.key_for(kind, object_id), consistent_read=True)
        except SimulatedObject.DoesNotExist:
            raise _refused(operation, "resource_missing") from None


def _key_item(idempotency_key: str) -> SimulatedObject | None:
    try:
        return SimulatedObject.get(f"SIMKEY#{idempotency_key}", "CONNECT", consistent_read=True)
    except SimulatedObject.DoesNotExist:
        return None


def _base_url() -> str:
    """Where the local API serves the simulator's pages (onboarding, dashboard)."""
    return os.environ.get("MALL_API_URL", "http://127.0.0.1:8000").rstrip("/")


def _account_of(account_id: str, data: dict[str, Any]) -> ConnectAccount:
    return ConnectAccount(
        id=account_id,
        country=data["country"],
        details_submitted=bool(data["details_submitted"]),
        charges_enabled=bool(data["charges_enabled"]),
        payouts_enabled=bool(data["payouts_enabled"]),
        transfers=data["transfers"],
        currently_due=tuple(data.get("currently_due") or ()),
        disabled_reason=data.get("disabled_reason"),
    )


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
