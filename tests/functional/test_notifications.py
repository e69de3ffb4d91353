"""Notifications: order events leave the outbox once published to the event channel, and reach a shop's
webhook signed, with retries and backoff, without ever holding up the order flow."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from support import bread_and_steak
from test_order_lifecycle import BAKERY, BUTCHER, move, pickup_code, place_order

from chalicelib.core.clock import now
from chalicelib.core.config import settings
from chalicelib.core.db import shard_partitions
from chalicelib.core.errors import InvalidInput
from chalicelib.notify import channel, relay, webhooks
from chalicelib.notify.models import DUE_PARTITION, DUE_SHARDS, DeliveryItem, WebhookItem
from chalicelib.order.events import OUTBOX_PARTITION, OUTBOX_SHARDS
from chalicelib.order.models import OrderEventItem


class Recorder:
    """A publisher that records what it is given; ``refuse`` ids are reported as not published."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.refuse: set[str] = set()

    def __call__(self, events: Sequence[tuple[str, dict[str, Any]]]) -> set[str]:
        accepted = [(eid, env) for eid, env in events if eid not in self.refuse]
        self.published += accepted
        return {eid for eid, _ in accepted}

    def types(self) -> list[str]:
        return [envelope["type"] for _, envelope in self.published]


class Receiver:
    """A retailer's endpoint on 127.0.0.1: records each request; ``answers`` are the status codes to send
    (the last one repeats); ``delay`` makes it answer late."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[int] = [200]
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "path": self.path, "at": time.monotonic()}
                )
                status = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                if receiver.delay:
                    time.sleep(receiver.delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the mall gave up waiting

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/mall"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def shops(api, open_shop) -> dict[str, Any]:
    return bread_and_steak(api, open_shop)


class Clock:
    """Pins the delivery step's clock, so backoff is tested without waiting."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.moment = now()
        monkeypatch.setattr(webhooks, "now", lambda: self.moment)

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


def outbox() -> list[OrderEventItem]:
    found = [
        item
        for p in shard_partitions(OUTBOX_PARTITION, OUTBOX_SHARDS)
        for item in OrderEventItem.gsi2.query(p)
    ]
    return sorted(found, key=lambda item: item.gsi2sk)


def due() -> list[DeliveryItem]:
    return [item for p in shard_partitions(DUE_PARTITION, DUE_SHARDS) for item in DeliveryItem.gsi3.query(p)]


def delivery(shop_id: str, event_id: str) -> DeliveryItem:
    return DeliveryItem.get(*DeliveryItem.key_for(shop_id, event_id))


def register(api: Any, key: str, url: str) -> dict[str, Any]:
    status, created = api.call("PUT", "/retailer/webhook", {"url": url}, key=key)
    assert status == 200, created
    return created


def verify(secret: str, request: dict[str, Any], tolerance: int = 300) -> bool:
    """What the README tells a retailer to do with a delivery."""
    parts = dict(p.split("=", 1) for p in request["headers"]["Mall-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request["body"], hashlib.sha256)
    fresh = abs(time.time() - int(parts["t"])) <= tolerance
    return fresh and hmac.compare_digest(expected.hexdigest(), parts["v1"])


def full_lifecycle(api: Any, shops: dict[str, Any]) -> dict[str, Any]:
    """Paid; the bakery's part ready for pickup then collected; the butcher's part delivered."""
    placed = place_order(api, shops)
    order_id = placed["order_id"]
    for to in ("preparing", "ready_for_pickup"):
        assert move(api, shops["bakery_key"], order_id, to)[0] == 200
    assert move(api, shops["bakery_key"], order_id, "collected", pickup_code(api, placed, shops))[0] == 200
    for to in ("preparing", "out_for_delivery", "delivered"):
        assert move(api, shops["butcher_key"], order_id, to)[0] == 200
    return placed


# --- the outbox relay ---------------------------------------------------------------------------------


def test_every_state_change_is_published_once_and_leaves_the_outbox(api, shops):
    placed = full_lifecycle(api, shops)
    assert len(outbox()) == 7  # written by the order flow itself, in its transactions
    recorder = Recorder()

    assert relay.relay_events(publisher=recorder) == 7

    assert recorder.types() == [
        "order.paid",
        "sub_order.preparing",
        "sub_order.ready_for_pickup",
        "sub_order.collected",
        "sub_order.preparing",
        "sub_order.out_for_delivery",
        "sub_order.delivered",
    ]
    ids = [eid for eid, _ in recorder.published]
    assert len(set(ids)) == 7 and all(envelope["id"] == eid for eid, envelope in recorder.published)
    paid = recorder.published[0][1]
    assert paid["data"]["order_id"] == placed["order_id"]
    assert sorted(paid["data"]["shop_ids"]) == sorted([shops["bakery"]["id"], shops["butcher"]["id"]])
    assert (paid["data"]["from_status"], paid["data"]["to_status"]) == ("pending_payment", "paid")
    assert outbox() == []
    # Running again (the next minute) publishes nothing twice.
    assert relay.relay_events(publisher=recorder) == 0
    assert len(recorder.published) == 7
    # The dev feed still shows every event: publishing only takes them out of the outbox index.
    status, page = api.call("GET", "/dev/events?limit=100")
    assert status == 200 and len(page["items"]) == 7


def test_a_crash_after_publishing_republishes_with_the_same_id_then_never_again(api, shops, monkeypatch):
    place_order(api, shops)
    recorder = Recorder()
    leave = relay._leave_outbox

    def crash(item: OrderEventItem) -> None:
        raise ConnectionError("the Lambda died here")

    monkeypatch.setattr(relay, "_leave_outbox", crash)
    assert relay.relay_events(publisher=recorder) == 0
    assert len(outbox()) == 1

    monkeypatch.setattr(relay, "_leave_outbox", leave)
    assert relay.relay_events(publisher=recorder) == 1
    assert relay.relay_events(publisher=recorder) == 0

    assert recorder.types() == ["order.paid", "order.paid"]
    assert recorder.published[0] == recorder.published[1]  # same id: consumers dedupe on it
    assert outbox() == []


def test_an_event_the_channel_refuses_stays_in_the_outbox(api, shops):
    placed = place_order(api, shops)
    assert move(api, shops["bakery_key"], placed["order_id"], "preparing")[0] == 200
    refused = relay.event_id(outbox()[0])
    recorder = Recorder()
    recorder.refuse = {refused}

    assert relay.relay_events(publisher=recorder) == 1

    assert [relay.event_id(item) for item in outbox()] == [refused]
    recorder.refuse = set()
    assert relay.relay_events(publisher=recorder) == 1
    assert outbox() == []


def test_the_relay_takes_at_most_limit_events_per_run_oldest_first(api, shops):
    placed = place_order(api, shops)
    for to in ("preparing", "ready_for_pickup"):
        assert move(api, shops["bakery_key"], placed["order_id"], to)[0] == 200
    recorder = Recorder()

    assert relay.relay_events(limit=2, publisher=recorder) == 2
    assert recorder.types() == ["order.paid", "sub_order.preparing"]
    assert relay.relay_events(limit=2, publisher=recorder) == 1
    assert recorder.types()[-1] == "sub_order.ready_for_pickup"


def test_any_event_written_with_order_event_is_relayed_refunds_included(api, shops):
    # Refunds and cancellations go through order_event() like every change: nothing else to wire.
    from chalicelib.order.events import order_event

    shop_id = shops["bakery"]["id"]
    order_event(
        "sub_order.refund_requested",
        order_id="ord_refunded",
        shop_id=shop_id,
        shop_ids=[shop_id],
        from_status="paid",
        to_status="paid",
        by="retailer",
        seq=1000,
        moment=now(),
    ).save()
    recorder = Recorder()

    assert relay.relay_events(publisher=recorder) == 1
    (published,) = recorder.published
    assert published[1]["type"] == "sub_order.refund_requested"
    assert published[1]["data"]["shop_id"] == shop_id
    assert outbox() == []


def test_eventbridge_publisher_puts_events_on_the_stage_bus_from_the_stack(api, shops, aws):
    import boto3

    # The bus comes from infra/mall-stack.yaml; an operator's rule routes the events (here to a queue).
    bus = aws["EventBusName"]
    assert bus == channel.bus_name() == "digital-mall-test"
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="mall-events-probe")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    events = boto3.client("events")
    events.put_rule(
        Name="all-order-events",
        EventBusName=bus,
        EventPattern=json.dumps({"source": [channel.SOURCE]}),
    )
    events.put_targets(
        Rule="all-order-events", EventBusName=bus, Targets=[{"Id": "probe", "Arn": queue_arn["QueueArn"]}]
    )
    placed = place_order(api, shops)

    assert relay.relay_events(publisher=channel.publish_to_eventbridge) == 1

    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    received = json.loads(messages[0]["Body"])
    assert (received["source"], received["detail-type"]) == (channel.SOURCE, "order.paid")
    assert received["detail"]["data"]["order_id"] == placed["order_id"]
    assert received["detail"]["id"].startswith("evt_")
    assert outbox() == []


def test_eventbridge_batches_by_ten_and_a_failed_call_leaves_only_its_batch_in_the_outbox(aws, monkeypatch):
    from chalicelib.order.events import order_event

    for n in range(12):
        order_event(
            "order.paid",
            order_id=f"ord_batch{n:02d}",
            shop_id=None,
            shop_ids=["shop_a"],
            from_status="pending_payment",
            to_status="paid",
            by="stripe",
            seq=0,
            moment=now(),
        ).save()
    real = channel._call_put_events
    sizes: list[int] = []

    def second_call_fails(batch: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        sizes.append(len(batch))
        if len(sizes) == 2:
            raise ConnectionError("EventBridge went away")
        return real(batch)

    monkeypatch.setattr(channel, "_call_put_events", second_call_fails)

    assert relay.relay_events(publisher=channel.publish_to_eventbridge) == 10

    assert sizes == [10, 2]
    assert sorted(item.order_id for item in outbox()) == ["ord_batch10", "ord_batch11"]


def test_the_channel_is_the_log_on_local_and_test_stages_and_eventbridge_elsewhere(monkeypatch):
    monkeypatch.delenv("EVENT_CHANNEL", raising=False)
    assert channel.default_publisher() is channel.publish_to_log
    monkeypatch.setattr(channel, "settings", lambda: replace(settings(), stage="prod"))
    assert channel.default_publisher() is channel.publish_to_eventbridge
    assert channel.bus_name() == "digital-mall-prod"
    monkeypatch.setenv("EVENT_CHANNEL", "carrier-pigeon")
    with pytest.raises(ValueError):
        channel.default_publisher()


# --- webhook registration -----------------------------------------------------------------------------


def test_registering_returns_the_secret_once_and_get_never_shows_it(api, open_shop, receiver):
    _, key = open_shop(BAKERY)

    created = register(api, key, receiver.url)

    assert created["secret"].startswith("whsec_") and len(created["secret"]) == 70
    assert created["webhook"]["url"] == receiver.url
    status, shown = api.call("GET", "/retailer/webhook", key=key)
    assert status == 200
    assert shown == {
        "url": receiver.url,
        "created_at": created["webhook"]["created_at"],
        "last_delivery": None,
    }
    assert created["secret"] not in json.dumps(shown)
    # Registering again replaces the URL and issues a new secret.
    again = register(api, key, "https://hooks.example.be/mall")
    assert again["secret"] != created["secret"]
    assert api.call("GET", "/retailer/webhook", key=key)[1]["url"] == "https://hooks.example.be/mall"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.be/mall", "must be an https:// URL"),
        ("ftp://hooks.example.be/mall", "must be an https:// URL"),
        ("https://user:pw@hooks.example.be/mall", "must not contain credentials"),
        ("https:///mall", "must name a host"),
        ("https://hooks.example.be/a b", "must not contain whitespace or control characters"),
        ("https://hooks.example.be:99999/", "is not a valid URL"),
        ("https://hooks.example.be/" + "a" * 2100, None),
    ],
)
def test_bad_webhook_urls_are_400(api, open_shop, url, message):
    _, key = open_shop(BAKERY)

    status, error = api.call("PUT", "/retailer/webhook", {"url": url}, key=key)

    assert status == 400, error
    if message:
        assert error["error"]["fields"] == [{"field": "url", "message": message}]
    assert api.call("GET", "/retailer/webhook", key=key)[0] == 404


def test_outside_local_stages_only_public_https_hosts_are_accepted(monkeypatch):
    monkeypatch.setattr(webhooks, "settings", lambda: replace(settings(), stage="prod"))
    for url in (
        "http://127.0.0.1:8080/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.7/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://printer.local/hook",
        "https://intranet/hook",
    ):
        with pytest.raises(InvalidInput):
            webhooks.validate_url(url)
    assert (
        webhooks.validate_url("https://hooks.example.be/mall?shop=1")
        == "https://hooks.example.be/mall?shop=1"
    )


def test_webhook_routes_need_a_retailer_key_and_each_shop_sees_only_its_own(api, open_shop, operator_key):
    _, bakery_key = open_shop(BAKERY)
    _, butcher_key = open_shop(BUTCHER)
    register(api, bakery_key, "https://hooks.example.be/bakery")

    assert api.call("GET", "/retailer/webhook")[0] == 401
    assert api.call("PUT", "/retailer/webhook", {"url": "https://x.example.be/"})[0] == 401
    assert api.call("GET", "/retailer/webhook", key=operator_key)[0] == 403
    assert api.call("PUT", "/retailer/webhook", {"url": "https://x.example.be/"}, key=operator_key)[0] == 403
    assert api.call("DELETE", "/retailer/webhook", key=operator_key)[0] == 403
    # The butcher has none, and cannot see or remove the bakery's.
    assert api.call("GET", "/retailer/webhook", key=butcher_key)[0] == 404
    assert api.call("DELETE", "/retailer/webhook", key=butcher_key)[0] == 404
    assert api.call("GET", "/retailer/webhook", key=bakery_key)[1]["url"] == "https://hooks.example.be/bakery"

    assert api.call("DELETE", "/retailer/webhook", key=bakery_key) == (204, None)
    assert api.call("GET", "/retailer/webhook", key=bakery_key)[0] == 404
    assert api.call("DELETE", "/retailer/webhook", key=bakery_key)[0] == 404


# --- deliveries ---------------------------------------------------------------------------------------


def test_a_shops_webhook_receives_its_events_signed_with_its_secret(api, shops, receiver):
    secret = register(api, shops["bakery_key"], receiver.url)["secret"]
    placed = full_lifecycle(api, shops)

    result = relay.relay_notifications(grace=timedelta(0), publisher=Recorder())

    assert result == {"events": 7, "deliveries": {"delivered": 4}}
    bodies = receiver.bodies()
    # The bakery's events only (the butcher registered no webhook), each naming the bakery alone.
    assert [b["type"] for b in bodies] == [
        "order.paid",
        "sub_order.preparing",
        "sub_order.ready_for_pickup",
        "sub_order.collected",
    ]
    assert {b["data"]["shop_id"] for b in bodies} == {shops["bakery"]["id"]}
    assert {b["data"]["order_id"] for b in bodies} == {placed["order_id"]}
    assert all("shop_ids" not in b["data"] for b in bodies)
    for request, body in zip(receiver.requests, bodies, strict=True):
        assert request["path"] == "/hooks/mall"
        assert request["headers"]["Content-Type"] == "application/json"
        assert request["headers"]["Mall-Event-Id"] == body["id"]
        assert verify(secret, request)
        assert not verify("whsec_" + "0" * 64, request)
        assert not verify(secret, {**request, "body": request["body"] + b" "})
    assert due() == []
    shown = api.call("GET", "/retailer/webhook", key=shops["bakery_key"])[1]
    assert shown["last_delivery"]["event_id"] == bodies[-1]["id"]
    assert (shown["last_delivery"]["status"], shown["last_delivery"]["http_status"]) == ("delivered", 200)
    # Relaying and delivering again sends nothing twice.
    assert relay.relay_notifications(grace=timedelta(0), publisher=Recorder()) == {
        "events": 0,
        "deliveries": {},
    }
    assert len(receiver.requests) == 4


def test_a_failing_endpoint_is_retried_with_backoff_then_marked_failed(api, shops, receiver, monkeypatch):
    register(api, shops["bakery_key"], receiver.url)
    receiver.answers = [500]
    place_order(api, shops)
    relay.relay_events(publisher=Recorder())
    clock = Clock(monkeypatch)
    (pending,) = due()
    started = clock.moment

    waits = []
    for attempt in range(1, 7):
        assert webhooks.deliver_due() == ({"failed": 1} if attempt == 6 else {"pending": 1})
        assert len(receiver.requests) == attempt
        item = delivery(pending.shop_id, pending.event_id)
        assert (item.attempts, item.last_http_status, item.last_error) == (attempt, 500, "HTTP 500")
        if attempt < 6:
            next_at = datetime.fromisoformat(item.next_attempt_at.replace("Z", "+00:00"))
            waits.append(next_at - clock.moment)
            # Not before it is due...
            clock.advance(waits[-1] - timedelta(seconds=5))
            assert webhooks.deliver_due() == {}
            assert len(receiver.requests) == attempt
            clock.advance(timedelta(seconds=5))

    assert waits == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=12),
    ]
    assert clock.moment - started == sum(waits, timedelta())
    assert item.status == "failed" and item.next_attempt_at is None
    assert due() == []
    clock.advance(timedelta(days=1))
    assert webhooks.deliver_due() == {}
    assert len(receiver.requests) == 6
    shown = api.call("GET", "/retailer/webhook", key=shops["bakery_key"])[1]["last_delivery"]
    assert (shown["status"], shown["http_status"]) == ("failed", 500)


def test_a_timeout_is_retried_and_the_retry_carries_the_same_event(api, shops, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.3)
    secret = register(api, shops["bakery_key"], receiver.url)["secret"]
    receiver.delay = 1.0
    place_order(api, shops)
    relay.relay_events(publisher=Recorder())
    clock = Clock(monkeypatch)

    assert webhooks.deliver_due() == {"pending": 1}
    (pending,) = due()
    assert (pending.attempts, pending.last_error, pending.last_http_status) == (1, "TimeoutError", None)
    shown = api.call("GET", "/retailer/webhook", key=shops["bakery_key"])[1]["last_delivery"]
    assert (shown["status"], shown["http_status"]) == ("retrying", None)

    receiver.delay = 0.0
    clock.advance(timedelta(minutes=1))
    assert webhooks.deliver_due() == {"delivered": 1}
    first, second = receiver.requests
    assert first["body"] == second["body"]
    assert first["headers"]["Mall-Event-Id"] == second["headers"]["Mall-Event-Id"]
    assert verify(secret, second)
    assert delivery(pending.shop_id, pending.event_id).status == "delivered"


def test_a_failing_endpoint_never_affects_the_order_flow(api, shops, monkeypatch):
    # Nothing listens on this port: every attempt is refused.
    register(api, shops["bakery_key"], "http://127.0.0.1:9/nobody-home")
    register(api, shops["butcher_key"], "http://127.0.0.1:9/nobody-home")

    def explode(*args: object, **kwargs: object) -> webhooks.Attempt:
        raise RuntimeError("a bug in the delivery step")

    placed = place_order(api, shops)
    assert move(api, shops["bakery_key"], placed["order_id"], "preparing")[0] == 200
    # One attempt per shop: a failed attempt ends its shop's turn until the next run.
    assert relay.relay_notifications(grace=timedelta(0), publisher=Recorder()) == {
        "events": 2,
        "deliveries": {"pending": 2},
    }
    assert move(api, shops["bakery_key"], placed["order_id"], "ready_for_pickup")[0] == 200
    monkeypatch.setattr(webhooks, "post", explode)
    assert (
        relay.relay_notifications(grace=timedelta(0), publisher=Recorder())["events"] == 1
    )  # the step failed, quietly
    for to in ("preparing", "out_for_delivery", "delivered"):
        status, sub = move(api, shops["butcher_key"], placed["order_id"], to)
        assert status == 200, sub
    assert sub["status"] == "delivered"


def test_a_channel_outage_keeps_events_in_the_outbox_and_due_webhooks_still_go_out(api, shops, receiver):
    register(api, shops["bakery_key"], receiver.url)
    placed = place_order(api, shops)
    relay.relay_events(publisher=Recorder())  # order.paid: a delivery is due
    assert move(api, shops["bakery_key"], placed["order_id"], "preparing")[0] == 200

    def outage(events: Sequence[tuple[str, dict[str, Any]]]) -> set[str]:
        raise ConnectionError("EventBridge is unreachable")

    assert relay.relay_notifications(grace=timedelta(0), publisher=outage) == {
        "events": 0,
        "deliveries": {"delivered": 1},
    }
    assert [b["type"] for b in receiver.bodies()] == ["order.paid"]
    assert [item.event_type for item in outbox()] == ["sub_order.preparing"]


def test_replacing_or_removing_the_webhook_drops_what_was_pending_for_it(api, shops, receiver):
    register(api, shops["bakery_key"], "http://127.0.0.1:9/old")
    place_order(api, shops)
    relay.relay_events(publisher=Recorder())
    (pending,) = due()
    register(api, shops["bakery_key"], receiver.url)

    assert webhooks.deliver_due() == {"dropped": 1}
    assert receiver.requests == []
    assert delivery(pending.shop_id, pending.event_id).status == "dropped"
    assert due() == []
    assert WebhookItem.get(*WebhookItem.key_for(shops["bakery"]["id"])).url == receiver.url


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"evt_1"}'
    expected = hmac.new(b"whsec_k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert webhooks.sign("whsec_k", 1_700_000_000, body) == f"t=1700000000,v1={expected}"
