"""Helpers of the payout tests: a mall with commission, shops onboarded through the simulated Stripe,
orders handed over, the sweep run as if days had passed, signed Connect events."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, tzinfo
from types import SimpleNamespace
from typing import Any

import stripe
from support import bakery_and_butcher, collect, move, place, send

CONNECT_SECRET = "whsec_test_connect_not_a_real_secret"
PLATFORM_SECRET = "whsec_test_not_a_real_secret"
RATE_BPS = 800  # 8 %


def setup_mall(api: Any, open_shop: Any, operator_key: str, rate_bps: int = RATE_BPS) -> dict[str, Any]:
    """Two shops: a bakery (pickup) and a butcher (delivery), the mall's commission set."""
    status, body = api.call("PUT", "/operator/commission", {"rate_bps": rate_bps}, key=operator_key)
    assert status == 200, body
    shops = bakery_and_butcher(api, open_shop, bread=(333, 50), cake=(1850, 50), steak=(1290, 50))
    return {"operator": operator_key, **shops}


def onboard(api: Any, key: str) -> str:
    """Creates the shop's Connect account and completes its onboarding; returns the account id."""
    status, account = api.call("POST", "/retailer/payouts/account", key=key)
    assert status == 201, account
    account_id = account["stripe_account_id"]
    status, ack = send(api, "POST", f"/dev/connect/accounts/{account_id}/complete")
    assert (status, ack["outcome"]) == (200, "active"), ack
    return str(account_id)


def sold_and_collected(api: Any, mall: dict[str, Any], **quantities: int) -> dict[str, Any]:
    """A paid order, the bakery's part collected (bread 3 x 333 + cake 2 x 1850 = 4699 by default)."""
    placed = place(api, mall, **{"steak": 0, **quantities})
    collect(api, mall, placed)
    return placed


def deliver_steak(api: Any, mall: dict[str, Any], placed: dict[str, Any]) -> None:
    for to in ("preparing", "out_for_delivery", "delivered"):
        move(api, mall["butcher_key"], placed["order_id"], to)


def run_sweep(api: Any, days_ahead: int = 8) -> dict[str, Any]:
    status, result = send(api, "POST", f"/dev/payouts/run?days_ahead={days_ahead}")
    assert status == 200, result
    return result


def run_of(result: dict[str, Any], shop_id: str) -> dict[str, Any] | None:
    return next((run for run in result["runs"] if run["shop_id"] == shop_id), None)


def payouts(api: Any, key: str) -> list[dict[str, Any]]:
    status, page = api.call("GET", "/retailer/payouts", key=key)
    assert status == 200, page
    return list(page["items"])


def balance(api: Any, key: str) -> dict[str, Any]:
    status, body = api.call("GET", "/retailer/balance", key=key)
    assert status == 200, body
    return dict(body)


def commission(goods_cents: int, rate_bps: int = RATE_BPS) -> int:
    return (2 * goods_cents * rate_bps + 10_000) // 20_000


def connect_event(api: Any, kind: str, account: str, obj: dict[str, Any], event_id: str) -> tuple[int, Any]:
    event = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "account": account,
        "created": 1767225600,
        "livemode": False,
        "data": {"object": obj},
    }
    return signed_post(api, "/webhooks/stripe-connect", json.dumps(event), CONNECT_SECRET)


def platform_event(api: Any, kind: str, obj: dict[str, Any], event_id: str) -> tuple[int, Any]:
    event = {"id": event_id, "object": "event", "type": kind, "created": 1767225600, "data": {"object": obj}}
    return signed_post(api, "/webhooks/stripe", json.dumps(event), PLATFORM_SECRET)


def signed_post(api: Any, path: str, payload: str, secret: str, header: str | None = None) -> tuple[int, Any]:
    signature = (
        header if header is not None else stripe.WebhookSignature.generate_signature_header(payload, secret)
    )
    response = api.http.post(
        path,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        body=payload.encode(),
    )
    return response.status_code, json.loads(response.body or b"null")


HOLD = timedelta(days=7)


class FaultyGateway:
    """The simulated gateway with scripted faults, per method, in order: "refused" (Stripe answers an error,
    nothing done), "unknown" (no answer, nothing done), "lost" (Stripe did it, the answer is lost: a crash
    between Stripe's answer and our write). Records every call's idempotency key."""

    def __init__(self) -> None:
        from chalicelib.payment.simulated_gateway import SimulatedGateway

        self.inner = SimulatedGateway()
        self.faults: dict[str, list[str]] = {}
        self.keys: list[tuple[str, str]] = []

    def fail(self, method: str, *faults: str) -> FaultyGateway:
        self.faults.setdefault(method, []).extend(faults)
        return self

    def __getattr__(self, name: str) -> Any:
        from chalicelib.payment.gateway import PaymentProviderFailed

        real = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if "idempotency_key" in kwargs:
                self.keys.append((name, kwargs["idempotency_key"]))
            fault = self.faults.get(name, []).pop(0) if self.faults.get(name) else None
            if fault == "refused":
                raise PaymentProviderFailed(name, refused=True, reason="balance_insufficient")
            if fault == "unknown":
                raise PaymentProviderFailed(name, reason="APIConnectionError")
            result = real(*args, **kwargs)
            if fault == "lost":
                raise PaymentProviderFailed(name, reason="APIConnectionError")
            return result

        return call


class RealisticStripe(FaultyGateway):
    """FaultyGateway, but a scripted refusal of a key Stripe already answered with success replays it."""

    def __getattr__(self, name: str) -> Any:
        from chalicelib.payment.simulated_gateway import _key_item

        call = super().__getattr__(name)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            queue = self.faults.get(name)
            if queue and queue[0] == "refused" and _key_item(kwargs.get("idempotency_key", "")) is not None:
                queue[0] = "replayed"
            return call(*args, **kwargs)

        return guarded


PINNED_START = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # a Wednesday morning in Brussels
PINNED_TICK = timedelta(milliseconds=1)


class Pinned:
    """What the mall reads from outside a test's steps, the same for the same steps, so a property test can
    replay a sequence it found (to shrink it) and reach the same state: the clock starts at PINNED_START
    on every reset and moves 1 ms per read (stamps still sort in the order things happened); ids, tokens
    and pickup codes come from a generator seeded on every reset (the same steps make the same shop ids,
    hence the same due shards, sweep order and payout ids, and the sweep's order decides which shop meets
    a scripted Stripe fault); and each reset gives a fresh RealisticStripe (no faults left scripted)."""

    def __init__(self, monkeypatch: Any) -> None:
        from chalicelib.core import clock, ids
        from chalicelib.order import service
        from chalicelib.payment import gateway

        self.moment, self.draws, self.stripe = PINNED_START, random.Random(0), RealisticStripe()
        pinned = self

        class PinnedDatetime(datetime):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> datetime:
                pinned.moment += PINNED_TICK
                return pinned.moment.astimezone(tz) if tz else pinned.moment.replace(tzinfo=None)

        monkeypatch.setattr(clock, "datetime", PinnedDatetime)  # chalicelib.core.clock.now() reads it
        draws = SimpleNamespace(choice=self.draws.choice, randbelow=self.draws.randrange)
        monkeypatch.setattr(ids, "secrets", draws)
        monkeypatch.setattr(service, "secrets", draws)
        monkeypatch.setattr(gateway, "gateway", lambda: self.stripe)

    def reset(self) -> RealisticStripe:
        """Back to the start; returns the fresh Stripe."""
        self.moment, self.stripe = PINNED_START, RealisticStripe()
        self.draws.seed(0)
        return self.stripe
