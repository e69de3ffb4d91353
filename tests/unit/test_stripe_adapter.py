"""Contract tests of StripeGateway against a local HTTP double of Stripe's API: the exact requests the
adapter makes (path, method, form parameters, Idempotency-Key, Authorization), how it reads Stripe's
answers, and how every provider failure becomes PaymentProviderFailed. No network beyond 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.payment.gateway import PaymentIntent, PaymentProviderFailed
from chalicelib.payment.stripe_gateway import StripeGateway

API_KEY = "sk_test_dummy"
ORDER = "ord_2rwkq62xccxsjnw8"
CART = "cart_0jx8v3kq1n2m4p5r"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    form: dict[str, list[str]]


def intent_json(status: str = "requires_payment_method", amount: int = 2975, **extra: Any) -> dict[str, Any]:
    """A payment_intent object as Stripe's API returns it (abridged to realistic fields)."""
    return {
        "id": "pi_123",
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": amount if status == "succeeded" else 0,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": "pi_123_secret_abc",
        "confirmation_method": "automatic",
        "created": 1767225600,
        "currency": "eur",
        "customer": None,
        "description": None,
        "last_payment_error": None,
        "livemode": False,
        "metadata": {"order_id": ORDER, "cart_id": CART},
        "payment_method": None,
        "payment_method_types": ["card", "bancontact"],
        "status": status,
        "transfer_group": ORDER,
        **extra,
    }


def error_json(kind: str, message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
    return {"error": error}


@dataclass
class StripeDouble:
    """Answers queued responses in order; once the queue is empty, a plausible success for the path."""

    port: int
    requests: list[Recorded] = field(default_factory=list)
    script: deque[tuple[int, Any, dict[str, str]]] = field(default_factory=deque)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def then(self, status: int, body: Any, headers: dict[str, str] | None = None) -> StripeDouble:
        self.script.append((status, body, headers or {}))
        return self

    def default(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        if request.method == "POST" and request.path == "/v1/payment_intents":
            form = request.form
            return (
                200,
                intent_json(
                    amount=int(form["amount"][0]),
                    currency=form["currency"][0],
                    transfer_group=form.get("transfer_group", [None])[0],
                ),
                {},
            )
        if request.method == "POST" and request.path.endswith("/cancel"):
            return 200, intent_json("canceled", canceled_at=1767227400, cancellation_reason="abandoned"), {}
        if request.method == "GET":
            return 200, intent_json(), {}
        return 404, error_json("invalid_request_error", "Unrecognized request URL"), {}


@pytest.fixture
def stripe_double() -> Iterator[StripeDouble]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        double: StripeDouble

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            url = urlsplit(self.path)
            request = Recorded(
                method=self.command,
                path=url.path,
                query=parse_qs(url.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                form=parse_qs(raw, keep_blank_values=True),
            )
            with lock:
                self.double.requests.append(request)
                status, body, headers = (
                    self.double.script.popleft() if self.double.script else self.double.default(request)
                )
            payload = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", f"req_{len(self.double.requests)}")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _handle

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    double = StripeDouble(port=server.server_address[1])
    Handler.double = double
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield double
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """stripe-python sleeps 0.5 s and more between retries; the retry decisions themselves are unchanged."""
    import stripe._http_client

    monkeypatch.setattr(stripe._http_client.HTTPClient, "_sleep_time_seconds", lambda self, n: 0.0)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def gateway(stripe_double: StripeDouble) -> StripeGateway:
    return StripeGateway(API_KEY, api_base=stripe_double.base)


def create(gateway: StripeGateway, key: str = f"checkout:{ORDER}") -> PaymentIntent:
    return gateway.create_payment_intent(
        amount_cents=2975,
        currency="EUR",
        transfer_group=ORDER,
        metadata={"order_id": ORDER, "cart_id": CART},
        idempotency_key=key,
    )


# --- create -------------------------------------------------------------------------------------------


def test_create_sends_exactly_the_checkout_parameters(gateway, stripe_double):
    intent = create(gateway)

    assert intent == PaymentIntent("pi_123", "pi_123_secret_abc", "requires_payment_method", 2975, "eur")
    (request,) = stripe_double.requests
    assert (request.method, request.path, request.query) == ("POST", "/v1/payment_intents", {})
    assert request.form == {
        "amount": ["2975"],
        "currency": ["eur"],
        "transfer_group": [ORDER],
        "metadata[order_id]": [ORDER],
        "metadata[cart_id]": [CART],
        "automatic_payment_methods[enabled]": ["true"],
    }
    assert request.headers["idempotency-key"] == f"checkout:{ORDER}"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "stripe-account" not in request.headers


def test_each_order_gets_its_own_idempotency_key(gateway, stripe_double):
    create(gateway, key="checkout:ord_first")
    create(gateway, key="checkout:ord_second")

    assert [r.headers["idempotency-key"] for r in stripe_double.requests] == [
        "checkout:ord_first",
        "checkout:ord_second",
    ]


def test_a_missing_client_secret_reads_as_empty(gateway, stripe_double):
    stripe_double.then(200, intent_json(client_secret=None))

    assert create(gateway).client_secret == ""


# --- failures on create -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (402, error_json("card_error", "Your card was declined.", "card_declined"), {}),
        (400, error_json("invalid_request_error", "Invalid currency: xyz", "parameter_invalid_string"), {}),
        (401, error_json("invalid_request_error", "Invalid API Key provided: sk_test_****ummy"), {}),
        (429, error_json("invalid_request_error", "Too many requests", "rate_limit"), {}),
        (500, error_json("api_error", "Something went wrong"), {"Stripe-Should-Retry": "false"}),
        (200, "this is not json", {}),
    ],
    ids=["declined-402", "invalid-400", "auth-401", "rate-limited-429", "500-do-not-retry", "garbled-200"],
)
def test_provider_errors_become_payment_provider_failed_without_retry(
    gateway, stripe_double, status, body, headers
):
    stripe_double.then(status, body, headers)

    with pytest.raises(PaymentProviderFailed) as failure:
        create(gateway)

    assert failure.value.code == "payment_provider_failed"
    assert failure.value.details == {"operation": "create"}
    assert len(stripe_double.requests) == 1


@pytest.mark.parametrize("status", [500, 503, 409])
def test_retryable_answers_are_retried_twice_with_the_same_idempotency_key(gateway, stripe_double, status):
    for _ in range(3):
        stripe_double.then(status, error_json("api_error", "Something went wrong on Stripe's end."))

    with pytest.raises(PaymentProviderFailed):
        create(gateway)

    assert len(stripe_double.requests) == 3  # the first attempt and max_network_retries=2
    assert {r.headers["idempotency-key"] for r in stripe_double.requests} == {f"checkout:{ORDER}"}
    assert all(r.form == stripe_double.requests[0].form for r in stripe_double.requests)
    assert all((r.method, r.path) == ("POST", "/v1/payment_intents") for r in stripe_double.requests)


def test_a_retry_that_succeeds_returns_the_intent(gateway, stripe_double):
    stripe_double.then(500, error_json("api_error", "Something went wrong")).then(
        502, "<html>Bad Gateway</html>"
    )

    intent = create(gateway)

    assert (intent.id, intent.client_secret) == ("pi_123", "pi_123_secret_abc")
    assert len(stripe_double.requests) == 3
    assert {r.headers["idempotency-key"] for r in stripe_double.requests} == {f"checkout:{ORDER}"}


def test_an_unreachable_stripe_is_a_provider_failure():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(PaymentProviderFailed) as failure:
        create(StripeGateway(API_KEY, api_base=f"http://127.0.0.1:{port}"))

    assert failure.value.details == {"operation": "create"}


# --- cancel and retrieve ------------------------------------------------------------------------------


def test_cancel_posts_to_the_intents_cancel_path_with_its_idempotency_key(gateway, stripe_double):
    intent = gateway.cancel_payment_intent("pi_123", idempotency_key=f"cancel:{ORDER}")

    assert intent.status == "canceled" and intent.id == "pi_123"
    (request,) = stripe_double.requests
    assert (request.method, request.path) == ("POST", "/v1/payment_intents/pi_123/cancel")
    assert request.headers["idempotency-key"] == f"cancel:{ORDER}"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.form == {}


@pytest.mark.parametrize("state", ["succeeded", "canceled", "processing"])
def test_a_refused_cancel_falls_back_to_reading_the_intents_state(gateway, stripe_double, state):
    stripe_double.then(
        400,
        error_json(
            "invalid_request_error",
            f"You cannot cancel this PaymentIntent because it has a status of {state}.",
            "payment_intent_unexpected_state",
        ),
    ).then(200, intent_json(state))

    intent = gateway.cancel_payment_intent("pi_123", idempotency_key=f"cancel:{ORDER}")

    assert intent.status == state
    assert [(r.method, r.path) for r in stripe_double.requests] == [
        ("POST", "/v1/payment_intents/pi_123/cancel"),  # not retried: a 400 is final
        ("GET", "/v1/payment_intents/pi_123"),
    ]
    assert "idempotency-key" not in stripe_double.requests[1].headers
    assert stripe_double.requests[1].headers["authorization"] == f"Bearer {API_KEY}"


def test_when_cancel_and_retrieve_both_fail_the_retrieve_failure_is_raised(gateway, stripe_double):
    stripe_double.then(
        404, error_json("invalid_request_error", "No such payment_intent: 'pi_123'", "resource_missing")
    )
    stripe_double.then(
        404, error_json("invalid_request_error", "No such payment_intent: 'pi_123'", "resource_missing")
    )

    with pytest.raises(PaymentProviderFailed) as failure:
        gateway.cancel_payment_intent("pi_123", idempotency_key=f"cancel:{ORDER}")

    assert failure.value.details == {"operation": "retrieve"}
    assert len(stripe_double.requests) == 2


def test_retrieve_reads_the_intent(gateway, stripe_double):
    stripe_double.then(200, intent_json("succeeded", amount=1234, currency="eur"))

    assert gateway.retrieve_payment_intent("pi_123") == PaymentIntent(
        "pi_123", "pi_123_secret_abc", "succeeded", 1234, "eur"
    )
    (request,) = stripe_double.requests
    assert (request.method, request.path, request.form) == ("GET", "/v1/payment_intents/pi_123", {})


# --- wiring -------------------------------------------------------------------------------------------


def test_the_stripe_gateway_is_built_from_the_environment(stripe_double, monkeypatch):
    from chalicelib.payment import gateway as module
    from chalicelib.payment import secrets

    monkeypatch.setenv("PAYMENT_GATEWAY", "stripe")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_from_env")
    monkeypatch.setenv("STRIPE_API_BASE", stripe_double.base)
    module.gateway.cache_clear()
    secrets._secret.cache_clear()
    try:
        built = module.gateway()
        assert isinstance(built, StripeGateway)
        create(built)
    finally:
        module.gateway.cache_clear()
        secrets._secret.cache_clear()

    (request,) = stripe_double.requests
    assert request.headers["authorization"] == "Bearer sk_test_from_env"
    assert request.path == "/v1/payment_intents"
