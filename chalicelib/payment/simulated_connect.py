"""The simulated Stripe Connect: connected accounts and their onboarding, account links, transfers with a
balance per connected account, reversals (refused when that balance does not cover them, as on Stripe)
and bank payouts."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalicelib.core.db import transaction
from chalicelib.core.ids import random_token
from chalicelib.payment.gateway import BankPayout, ConnectAccount, Transfer, TransferReversal
from chalicelib.payment.models import SimulatedObject
from chalicelib.payment.simulated_store import SimulatedStore, base_url, key_item, refused


class SimulatedConnect(SimulatedStore):
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
            raise refused("retrieve_account", "account_invalid")
        return _account_of(account_id, data)

    def create_account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        self.load_object("account", account_id, "account_link")
        query = urlencode({"refresh_url": refresh_url, "return_url": return_url})
        return f"{base_url()}/dev/connect/accounts/{account_id}/onboarding?{query}"

    def create_login_link(self, account_id: str) -> str:
        account = self.retrieve_connect_account(account_id)
        if not account.details_submitted:
            raise refused("login_link", "account_not_onboarded")
        return f"{base_url()}/dev/connect/accounts/{account_id}/dashboard"

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
            raise refused("transfer", "transfers_not_allowed")
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
        if key_item(idempotency_key) is None:
            if amount_cents <= 0 or amount_cents > total - int(transfer.amount_reversed or 0):
                raise refused("reverse_transfer", "amount_too_large")
            if int(account.balance or 0) < amount_cents:
                raise refused("reverse_transfer", "insufficient_funds")

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
        if key_item(idempotency_key) is None:
            if not account.payouts_enabled:
                raise refused("bank_payout", "payouts_not_allowed")
            if self.balance(account_id) < amount_cents:
                raise refused("bank_payout", "balance_insufficient")
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
            raise refused("retrieve_bank_payout", "resource_missing")
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
