"""The simulated Stripe's storage: objects and idempotency keys kept in the mall table, so every process of
a local run (chalice local, the jobs, the tests) sees the same objects; a key's first request wins, as on
Stripe, and a key sent again with other parameters is refused."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.core.db import transaction
from chalicelib.payment.gateway import PaymentProviderFailed
from chalicelib.payment.models import SimulatedObject


def params_fingerprint(params: Any) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def refused(operation: str, reason: str) -> PaymentProviderFailed:
    return PaymentProviderFailed(operation, refused=True, reason=reason)


class SimulatedStore:
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
        fingerprint = params_fingerprint([kind, params])
        seen = key_item(idempotency_key)
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
            seen = key_item(idempotency_key)
            if seen is None:
                raise refused(kind, "balance_insufficient") from None  # a side effect's condition failed
            if seen.fingerprint != fingerprint:
                raise PaymentProviderFailed(kind, reason="idempotency_key_in_use") from None
            return seen.object_id
        return object_id

    def load_object(self, kind: str, object_id: str, operation: str = "retrieve") -> SimulatedObject:
        try:
            return SimulatedObject.get(*SimulatedObject.key_for(kind, object_id), consistent_read=True)
        except SimulatedObject.DoesNotExist:
            raise refused(operation, "resource_missing") from None


def key_item(idempotency_key: str) -> SimulatedObject | None:
    try:
        return SimulatedObject.get(f"SIMKEY#{idempotency_key}", "CONNECT", consistent_read=True)
    except SimulatedObject.DoesNotExist:
        return None


def base_url() -> str:
    """Where the local API serves the simulator's pages (onboarding, dashboard)."""
    return os.environ.get("MALL_API_URL", "http://127.0.0.1:8000").rstrip("/")
