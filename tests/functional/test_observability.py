"""What the mall tells its operator, through the real app on moto: a checkout, a refund and a payout emit
their metrics (CloudWatch embedded metrics printed at the end of each invocation), and neither the logs nor
the metrics of a run through checkout, payment, retailer webhooks and refunds ever carry a key, a token, a
secret, an e-mail address, a street address or a phone number."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import pytest
from payout_support import PLATFORM_SECRET, commission, onboard, run_of, run_sweep, setup_mall
from private_output import Watch, watched
from support import collect, delivery_to, make_product, place, send, vid
from test_images import lambdas, shop_images  # noqa: F401  (fixtures of the image tests, reused)

from chalicelib.core import metrics

BAKERY_SALE = 3 * 333 + 2 * 1850


class Output:
    """Everything the app writes while a test runs: its log lines (at DEBUG: every line the code has) and
    its metrics (the EMF lines it prints)."""

    def __init__(self, watch: Watch) -> None:
        self.watch = watch

    def text(self) -> str:
        return self.watch.text()

    def metrics(self) -> list[tuple[str, float, dict[str, str]]]:
        """(name, value, extra dimensions) for each value emitted."""
        found = []
        for line in self.watch.metric_lines:
            emf = json.loads(line)
            (directive,) = emf["_aws"]["CloudWatchMetrics"]
            dims = {d: emf[d] for d in directive["Dimensions"][0] if d not in ("stage", "service")}
            assert (emf["stage"], emf["service"], directive["Namespace"]) == (
                "test",
                "digital-mall",
                "DigitalMall",
            )
            for metric in directive["Metrics"]:
                values = emf[metric["Name"]]
                found += [
                    (metric["Name"], v, dims) for v in (values if isinstance(values, list) else [values])
                ]
        return found

    def total(self, name: str, **dims: str) -> float:
        return sum(v for n, v, d in self.metrics() if n == name and d == dims)


@pytest.fixture
def output() -> Iterator[Output]:
    metrics.flush()
    with watched() as watch:
        yield Output(watch)


@pytest.fixture
def mall(api, open_shop, operator_key) -> dict[str, Any]:
    return setup_mall(api, open_shop, operator_key)


def test_a_checkout_and_its_payment_count_an_order_placed_and_paid_and_refusals_by_reason(api, mall, output):
    place(api, mall)
    assert (output.total("OrdersPlaced"), output.total("OrdersPaid")) == (1, 1)

    body = {"lines": [{"variant_id": vid(mall["steak"]), "quantity": 51}]}  # 50 in stock
    status, created = send(api, "POST", "/carts", body)
    headers = {"X-Cart-Token": created["cart_token"], "Idempotency-Key": "key-observed-1"}
    path = f"/carts/{created['cart']['id']}"
    assert (
        send(api, "PUT", f"{path}/shops/{mall['butcher']['id']}/fulfilment", delivery_to(), headers)[0] == 200
    )
    status, refused = send(api, "POST", f"{path}/checkout", {"email": "a@example.be"}, headers)
    assert (status, refused["error"]["code"]) == (409, "insufficient_stock")
    assert output.total("CheckoutRefused", reason="stock") == 1
    assert output.total("OrdersPlaced") == 1


def test_a_refund_counts_once_with_its_cents(api, mall, output):
    placed = place(api, mall)
    body = {"lines": [{"variant_id": vid(mall["bread"]), "quantity": 1}], "restock": False, "reason": "stale"}
    status, refund = api.call("POST", f"/retailer/orders/{placed['order_id']}/refunds", body, key=mall["key"])
    assert status == 201 and refund["status"] == "succeeded", refund
    assert output.total("Refunds") == 1
    assert output.total("RefundedCents") == refund["amount_cents"] > 0
    assert output.total("RefundsFailed") == 0


def test_a_payout_counts_once_with_its_cents(api, mall, output):
    onboard(api, mall["key"])
    placed = place(api, mall, steak=0)
    collect(api, mall, placed)
    run = run_of(run_sweep(api), mall["bakery"]["id"])
    assert run is not None and run["outcome"] == "paid", run
    assert output.total("Payouts") == 1
    assert output.total("PayoutCents") == BAKERY_SALE - commission(BAKERY_SALE)
    assert output.total("PayoutFailures") == 0
    run_sweep(api)  # nothing more to pay: nothing more counted
    assert output.total("Payouts") == 1


class Receiver:
    """A retailer's webhook endpoint on 127.0.0.1 that answers every delivery with ``status``."""

    def __init__(self) -> None:
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/mall"
        Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_logs_and_metrics_never_carry_keys_tokens_secrets_or_personal_data(
    api, open_shop, operator_key, receiver, output
):
    _, key = open_shop(0)
    butcher, butcher_key = open_shop(1)
    bread = make_product(api, key, "Sourdough", [(333, 10)])
    steak = make_product(api, butcher_key, "Steak", [(1290, 10)])
    status, hook = api.call("PUT", "/retailer/webhook", {"url": receiver.url}, key=key)
    assert status == 200, hook

    email, address = "an.peeters@example.be", delivery_to()
    body = {"lines": [{"variant_id": vid(bread), "quantity": 2}, {"variant_id": vid(steak), "quantity": 1}]}
    status, created = send(api, "POST", "/carts", body)
    cart_id, cart_token = created["cart"]["id"], created["cart_token"]
    headers = {"X-Cart-Token": cart_token, "Idempotency-Key": "key-private-data-1"}
    assert send(api, "PUT", f"/carts/{cart_id}/shops/{butcher['id']}/fulfilment", address, headers)[0] == 200
    status, placed = send(api, "POST", f"/carts/{cart_id}/checkout", {"email": email}, headers)
    assert status == 201, placed
    assert send(api, "POST", f"/dev/payments/{placed['payment_intent_id']}/succeed")[0] == 200
    order_token = placed["order_token"]
    assert send(api, "GET", f"/orders/{placed['order_id']}", headers={"X-Order-Token": order_token})[0] == 200
    # Wrong keys and tokens are refused and logged as refusals, without the key or token sent.
    assert send(api, "GET", f"/orders/{placed['order_id']}", headers={"X-Order-Token": "ot_forged"})[0] == 401
    assert api.call("GET", "/retailer/orders", key="mk_live_forged_key_123")[0] == 401
    assert api.call("GET", f"/retailer/orders/{placed['order_id']}", key=key)[0] == 200
    refund = {"lines": [{"variant_id": vid(bread), "quantity": 1}], "restock": True, "reason": "stale"}
    assert api.call("POST", f"/retailer/orders/{placed['order_id']}/refunds", refund, key=key)[0] == 201
    # The notification relay publishes the order's events (to the log, on this stage) and delivers them
    # to the shop's webhook, signed with its secret.
    from chalicelib.notify.relay import relay_notifications

    assert relay_notifications(grace=timedelta(0))["deliveries"]

    seen = output.text()
    assert '"_aws"' in seen and "order event" in seen and "request" in seen  # the output was captured
    private = {
        "e-mail": email,
        "street": address["address"]["street"],
        "contact name": address["contact"]["name"],
        "phone": address["contact"]["phone"],
        "retailer key": key,
        "other retailer key": butcher_key,
        "operator key": operator_key,
        "forged key": "mk_live_forged_key_123",
        "cart token": cart_token,
        "order token": order_token,
        "forged order token": "ot_forged",
        "client secret": placed["client_secret"],
        "webhook secret": hook["secret"],
        "stripe webhook secret": PLATFORM_SECRET,
    }
    leaked = {what: value for what, value in private.items() if value and value in seen}
    assert not leaked, f"written to logs or metrics: {sorted(leaked)}"


@pytest.mark.parametrize("function", ["expire_checkout_holds", "pay_shops", "relay_order_events"])
def test_every_function_logs_its_lambda_context_and_flushes_its_metrics(aws, monkeypatch, output, function):
    """Scheduled, queue and stream functions go through the same middleware as the API."""
    from chalice.test import Client

    from app import app
    from chalicelib.core.log import logger
    from chalicelib.notify import relay
    from chalicelib.order import service
    from chalicelib.payout import sweep

    def work(*args: Any, **kwargs: Any) -> None:
        logger.info("working")
        metrics.count("PayoutFailures")

    monkeypatch.setattr(service, "expire_holds", work)
    monkeypatch.setattr(sweep, "handle_messages", work)
    monkeypatch.setattr(relay, "relay_stream", work)
    with Client(app, stage_name="test") as client:
        event = {
            "expire_checkout_holds": lambda: client.events.generate_cw_event(
                "aws.events", "Scheduled", {}, []
            ),
            "pay_shops": lambda: client.events.generate_sqs_event(["{}"], "digital-mall-test-payouts"),
            "relay_order_events": lambda: {"Records": []},
        }[function]()
        client.lambda_.invoke(function, event)

    (line,) = [json.loads(x) for x in output.text().splitlines() if '"working"' in x]
    assert line["function_name"] == function and line["function_request_id"]
    assert isinstance(line["cold_start"], bool)
    assert output.total("PayoutFailures") == 1


def test_a_provider_failure_counts_a_payment_provider_error(api, mall, monkeypatch, output):
    from payout_support import FaultyGateway

    from chalicelib.payment import gateway as module

    placed = place(api, mall)
    double = FaultyGateway().fail("create_refund", "unknown")
    monkeypatch.setattr(module, "gateway", lambda: double)
    body = {"lines": [{"variant_id": vid(mall["bread"]), "quantity": 1}], "restock": False, "reason": "stale"}
    status, refund = api.call("POST", f"/retailer/orders/{placed['order_id']}/refunds", body, key=mall["key"])
    assert refund["status"] == "pending", (status, refund)  # kept for a retry
    assert output.total("PaymentProviderErrors") == 1
    assert output.total("Refunds") == 0


def test_a_webhook_delivery_that_fails_for_good_is_counted_once(
    api, open_shop, receiver, monkeypatch, output
):
    from chalicelib.core.clock import now
    from chalicelib.notify import webhooks
    from chalicelib.notify.relay import relay_notifications

    _, key = open_shop(0)
    bread = make_product(api, key, "Sourdough", [(333, 10)])
    assert api.call("PUT", "/retailer/webhook", {"url": receiver.url}, key=key)[0] == 200
    receiver.status = 500
    status, created = send(api, "POST", "/carts", {"lines": [{"variant_id": vid(bread), "quantity": 1}]})
    headers = {"X-Cart-Token": created["cart_token"], "Idempotency-Key": "key-webhook-fails-1"}
    status, placed = send(
        api, "POST", f"/carts/{created['cart']['id']}/checkout", {"email": "a@b.be"}, headers
    )
    assert status == 201, placed
    assert send(api, "POST", f"/dev/payments/{placed['payment_intent_id']}/succeed")[0] == 200
    assert relay_notifications(grace=timedelta(0))["deliveries"] == {"pending": 1}  # the first attempt
    moment = now()
    for _ in range(webhooks.MAX_ATTEMPTS - 1):
        moment += timedelta(days=1)  # past every backoff
        monkeypatch.setattr(webhooks, "now", lambda moment=moment: moment)
        outcomes = webhooks.deliver_due()
    assert outcomes == {"failed": 1}, outcomes
    metrics.flush()  # what the relay function's invocation does when it ends
    assert output.total("WebhookDeliveriesFailed") == 1


def test_image_uploads_refused_and_failed_are_counted(shop_images, output):  # noqa: F811
    from test_images import png

    shop_images.upload(b"GIF89a" + b"\0" * 500, "image/jpeg")  # not what it says it is: refused
    shop_images.deliver()
    assert (output.total("ImageUploadsRefused"), output.total("ImageUploadsFailed")) == (1, 0)
    shop_images.upload(png(), "image/png")
    shop_images.deliver(receive_count=4)  # three earlier deliveries crashed or timed out: given up
    assert (output.total("ImageUploadsRefused"), output.total("ImageUploadsFailed")) == (1, 1)
