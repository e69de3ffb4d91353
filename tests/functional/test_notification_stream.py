"""The outbox relay on the table's stream: each inserted order event reaches the event channel and its shops'
webhooks through `relay_order_events` (app.py), fed here with moto's own stream records; the scheduled relay
only sweeps what the stream path left behind; webhook deliveries run a shop per thread, so a slow endpoint
never delays the others."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.test import Client
from support import bread_and_steak
from test_notifications import Receiver, Recorder, due, outbox, register
from test_order_lifecycle import move, place_order

from chalicelib.core.clock import now
from chalicelib.core.config import settings
from chalicelib.notify import channel, relay, webhooks
from chalicelib.notify.stream import table_stream_arn

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shops(api, open_shop) -> dict[str, Any]:
    return bread_and_steak(api, open_shop)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


class Stream:
    """Reads moto's stream of the table from where it last stopped, as Lambda's poller does."""

    def __init__(self) -> None:
        # botocore's account-based streams endpoint is unknown to moto: the regional one is.
        region = boto3.session.Session().region_name
        self.client = boto3.client(
            "dynamodbstreams", endpoint_url=f"https://streams.dynamodb.{region}.amazonaws.com"
        )
        self.arn = boto3.client("dynamodb").describe_table(TableName=settings().table_name)["Table"][
            "LatestStreamArn"
        ]
        shard = self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.client.get_shard_iterator(
            StreamArn=self.arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def records(self) -> list[dict[str, Any]]:
        answer = self.client.get_records(ShardIterator=self.iterator, Limit=1000)
        self.iterator = answer["NextShardIterator"]
        # What Lambda hands the function: JSON, with the stream's ARN on every record.
        return [
            {**json.loads(json.dumps(r, default=lambda d: d.timestamp())), "eventSourceARN": self.arn}
            for r in answer["Records"]
        ]


def invoke(api_client: Client, records: list[dict[str, Any]]) -> None:
    api_client.lambda_.invoke("relay_order_events", {"Records": records})


def test_the_stack_streams_new_images_and_the_app_reads_the_stages_stream(aws, monkeypatch):
    from app import app

    table = boto3.client("dynamodb").describe_table(TableName=settings().table_name)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert aws["TableStreamArn"] == table["LatestStreamArn"]
    (source,) = [s for s in app.event_sources if s.name == "relay_order_events"]
    assert (source.stream_arn, source.batch_size) == (table_stream_arn(), 100)
    monkeypatch.setenv("TABLE_STREAM_ARN", aws["TableStreamArn"])
    assert table_stream_arn() == aws["TableStreamArn"]
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage in ("dev", "prod"):
        arn = config["stages"][stage]["environment_variables"]["TABLE_STREAM_ARN"]
        assert f":table/digital-mall-{stage}/stream/" in arn
        policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
        (grant,) = [s for s in policy["Statement"] if s["Sid"] == "MallTableStream"]
        assert grant["Resource"] == f"arn:aws:dynamodb:*:*:table/digital-mall-{stage}/stream/*"
        assert {"dynamodb:GetRecords", "dynamodb:GetShardIterator"} <= set(grant["Action"])


def test_streamed_events_are_published_and_reach_the_webhook_without_polling(
    api, shops, receiver, monkeypatch
):
    stream = Stream()
    register(api, shops["bakery_key"], receiver.url)
    placed = place_order(api, shops)
    assert move(api, shops["bakery_key"], placed["order_id"], "preparing")[0] == 200
    recorder = Recorder()
    monkeypatch.setattr(channel, "publish_to_log", recorder)
    records = stream.records()
    # Every write is on the stream (carts, stock, orders, ...): only inserted events are relayed.
    assert len(records) > 2

    from app import app

    with Client(app, stage_name="test") as client:
        invoke(client, records)

    assert recorder.types() == ["order.paid", "sub_order.preparing"]
    assert outbox() == []
    assert [d.event_type for d in due()] == ["order.paid", "sub_order.preparing"]
    # The relay's own writes (deliveries, taking events out of the outbox) come back on the stream: no
    # event is published twice.
    with Client(app, stage_name="test") as client:
        invoke(client, stream.records())
    assert recorder.types() == ["order.paid", "sub_order.preparing"]
    assert webhooks.deliver_due() == {"delivered": 2}
    assert [b["type"] for b in receiver.bodies()] == ["order.paid", "sub_order.preparing"]


def test_a_failed_stream_batch_is_left_to_the_sweep_after_its_grace(api, shops, monkeypatch):
    stream = Stream()
    place_order(api, shops)

    def outage(events: Any) -> set[str]:
        raise ConnectionError("EventBridge is unreachable")

    # The stream path never raises (that would hold up the shard behind it): the event stays in the outbox.
    assert relay.relay_stream(stream.records(), publisher=outage) == 0
    assert [e.event_type for e in outbox()] == ["order.paid"]
    recorder = Recorder()
    # Within the grace the sweep leaves it to the stream...
    assert relay.relay_notifications(publisher=recorder) == {"events": 0, "deliveries": {}}
    # ...and after it, publishes it.
    later = now() + relay.SWEEP_GRACE + timedelta(seconds=1)
    monkeypatch.setattr(relay, "now", lambda: later)
    assert relay.relay_notifications(publisher=recorder) == {"events": 1, "deliveries": {}}
    assert recorder.types() == ["order.paid"] and outbox() == []


def test_a_slow_endpoint_never_delays_another_shops_deliveries(api, shops, receiver):
    slow, fast = receiver, Receiver()
    fast.thread.start()
    try:
        slow.delay = 1.0
        register(api, shops["bakery_key"], slow.url)
        placed = place_order(api, shops)
        relay.relay_events(publisher=Recorder())  # the bakery's order.paid
        register(api, shops["butcher_key"], fast.url)
        for key in ("bakery_key", "butcher_key"):
            assert move(api, shops[key], placed["order_id"], "preparing")[0] == 200
        relay.relay_events(publisher=Recorder())
        started = time.monotonic()

        assert webhooks.deliver_due() == {"delivered": 3}

        took = time.monotonic() - started
        # The bakery's two deliveries, in order, one after the other (about 2 s) ...
        assert [b["type"] for b in slow.bodies()] == ["order.paid", "sub_order.preparing"]
        assert took >= 2.0
        # ... while the butcher's went out at once, on its own thread.
        (request,) = fast.requests
        assert request["at"] - started < 0.8
    finally:
        fast.server.shutdown()
        fast.server.server_close()
