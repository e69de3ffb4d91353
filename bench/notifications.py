"""`python -m bench.notifications`: the notification path at mall scale, in process over moto.

1. Events: N order events (default 2,000, over 200 shops with a webhook each) are written as the order flow
   writes them (their outbox key included); the table's stream records (moto's) are handed to
   `relay_stream` in batches of 100, as the `relay_order_events` Lambda receives them: publish (a counting
   stand-in for EventBridge), one webhook delivery per shop, the event out of the outbox. Reported: events
   per second and DynamoDB calls per event.
2. Deliveries: `deliver_due` sends every due delivery to a local HTTP receiver, while a few shops point at
   an endpoint that never answers in time: the run takes about one timeout, not one per dead shop.
3. The partition arithmetic for 10,000 orders an hour: writes per second on each due-work index partition,
   sharded and not, against DynamoDB's 1,000 write units a second per partition.

moto time is not DynamoDB time (one Lambda does the work here, serially, in moto): the counts are exact;
the throughput is a floor for one stream shard's worth of work.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.catalog import TEMPLATE, CallCounter, _configure_env

RESULTS = Path(__file__).resolve().parent / "results" / "notifications.json"
PARTITION_WCU_PER_S = 1000
SHARDS = 8
# Assumptions for the arithmetic (stated in the output): an order spans 1.5 shops on average; each
# sub-order goes through 3 more statuses after paid (preparing, ready/out for delivery, collected or
# delivered); 60% of sub-orders are picked up; every shop has a webhook; a peak hour runs at 3x the average.
SHOPS_PER_ORDER = 1.5
EVENTS_PER_SUB_ORDER = 3
PICKUP_SHARE = 0.6
PEAK_FACTOR = 3


ARRIVALS: list[float] = []


@contextmanager
def receiver(delay_s: float) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            if not delay_s:
                ARRIVALS.append(time.perf_counter())
            if delay_s:
                time.sleep(delay_s)
            try:
                self.send_response(204)
                self.end_headers()
            except OSError:
                pass  # the mall gave up waiting

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()


def _stream_records() -> list[dict[str, Any]]:
    import boto3

    from chalicelib.core.config import settings

    arn = boto3.client("dynamodb").describe_table(TableName=settings().table_name)["Table"]["LatestStreamArn"]
    # botocore's account-based streams endpoint is unknown to moto: the regional one is.
    streams = boto3.client(
        "dynamodbstreams", endpoint_url=f"https://streams.dynamodb.{settings().region}.amazonaws.com"
    )
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records: list[dict[str, Any]] = []
    while True:
        answer = streams.get_records(ShardIterator=iterator, Limit=1000)
        if not answer["Records"]:
            return records
        records += [
            {**json.loads(json.dumps(r, default=lambda d: d.timestamp())), "eventSourceARN": arn}
            for r in answer["Records"]
        ]
        iterator = answer["NextShardIterator"]


def _seed(shops: int, events: int, url: str, dead_url: str, dead: int) -> None:
    from chalicelib.core.clock import now, stamp
    from chalicelib.notify.models import WebhookItem
    from chalicelib.order.events import order_event
    from chalicelib.order.models import OrderEventItem

    with WebhookItem.batch_write() as batch:
        for n in range(shops):
            shop_id = f"shop_bench{n:06d}"
            batch.save(
                WebhookItem(
                    *WebhookItem.key_for(shop_id),
                    shop_id=shop_id,
                    url=dead_url if n < dead else url,
                    secret="whsec_" + "0" * 64,
                    created_at=stamp(now()),
                )
            )
    moment = now()
    with OrderEventItem.batch_write() as batch:
        for n in range(events):
            shop_id = f"shop_bench{n % shops:06d}"
            batch.save(
                order_event(
                    "sub_order.preparing",
                    order_id=f"ord_bench{n:08d}",
                    shop_id=shop_id,
                    shop_ids=[shop_id],
                    from_status="paid",
                    to_status="preparing",
                    by="retailer",
                    seq=1,
                    moment=moment,
                )
            )


def run(events: int, shops: int, dead: int) -> dict[str, Any]:
    _configure_env()
    # The receivers are on loopback, which only the local stages may post to (the table stays the bench's).
    os.environ["STAGE"] = "local"
    import boto3
    from moto import mock_aws

    from tools import moto_cfn, moto_patches

    moto_patches.install(indexed_queries=True)
    with mock_aws(), receiver(0.0) as url, receiver(30.0) as dead_url:
        with moto_cfn.quiet_unsupported_resources():
            boto3.client("cloudformation").create_stack(
                StackName="digital-mall-bench",
                TemplateBody=TEMPLATE.read_text(),
                Parameters=[{"ParameterKey": "Stage", "ParameterValue": "bench"}],
            )
        from chalicelib.notify import relay, webhooks

        _seed(shops, events, url, dead_url, dead)
        records = _stream_records()
        published = Counter[str]()

        def publisher(batch: Any) -> set[str]:
            published["events"] += len(batch)
            return {event_id for event_id, _ in batch}

        counter = CallCounter()
        with counter.installed():
            started = time.perf_counter()
            relayed = sum(
                relay.relay_stream(records[i : i + 100], publisher) for i in range(0, len(records), 100)
            )
            stream_s = time.perf_counter() - started
            stream_calls = Counter(call.operation for call in counter.reset())
            started = time.perf_counter()
            outcomes = webhooks.deliver_due(limit=events)
            deliver_s = time.perf_counter() - started
            healthy_s = max(ARRIVALS) - started
            deliver_calls = Counter(call.operation for call in counter.reset())
    assert relayed == events == published["events"], (relayed, events, published)
    delivered = outcomes.get("delivered", 0)
    return {
        "events": events,
        "stream_records": len(records),
        "stream": {
            "wall_s": round(stream_s, 2),
            "events_per_s": round(events / stream_s, 1),
            "dynamodb_calls_per_event": {op: round(n / events, 2) for op, n in stream_calls.items()},
        },
        "deliveries": {
            "outcomes": outcomes,
            "shops": shops,
            "dead_endpoints": dead,
            "timeout_s": webhooks.TIMEOUT_SECONDS,
            "workers": webhooks.WORKERS,
            "wall_s": round(deliver_s, 2),
            "delivered_per_s": round(delivered / deliver_s, 1),
            # the healthy endpoints' share: until the last of their deliveries arrived
            "healthy_done_s": round(healthy_s, 2),
            "healthy_delivered_per_s": round(delivered / healthy_s, 1),
            "sequential_dead_cost_s": dead * webhooks.TIMEOUT_SECONDS,
            "dynamodb_calls_per_delivery": {
                op: round(n / max(delivered, 1), 2) for op, n in deliver_calls.items()
            },
        },
        "partitions": partition_math(10_000),
    }


def partition_math(orders_per_hour: int) -> dict[str, Any]:
    """Index writes per second for the given order rate: a put or removal of an index key costs 1 write
    unit (items under 1 KB), a change of its sort key 2 (a delete and a put in the index)."""
    orders_s = orders_per_hour / 3600
    sub_orders = SHOPS_PER_ORDER
    events = 1 + sub_orders * EVENTS_PER_SUB_ORDER  # order.paid + the sub-orders' moves
    deliveries = SHOPS_PER_ORDER + sub_orders * EVENTS_PER_SUB_ORDER  # order.paid goes to each shop
    per_order = {
        # checkout puts the key, payment (or expiry) removes it
        "HOLDS#pending_payment": 2,
        # ready_for_pickup puts it, collection (or the no-show job) removes it
        "NOSHOW#pending": 2 * sub_orders * PICKUP_SHARE,
        # each event's insert puts it, the relay removes it
        "OUTBOX#pending": 2 * events,
        # created due (1), claimed (sort key moves: 2), finished (removed: 1)
        "WEBHOOKS#due": 4 * deliveries,
    }
    rows = {}
    for index, writes in per_order.items():
        average = writes * orders_s
        peak = average * PEAK_FACTOR
        rows[index] = {
            "writes_per_order": round(writes, 2),
            "wcu_per_s_one_partition": round(average, 1),
            "wcu_per_s_peak_one_partition": round(peak, 1),
            # sha256 spreads ids evenly; 15% over the mean covers the busiest shard at these volumes
            "wcu_per_s_peak_per_shard": round(peak / SHARDS * 1.15, 1),
            "orders_per_hour_at_limit_one_partition": int(PARTITION_WCU_PER_S / writes * 3600),
            "orders_per_hour_at_limit_sharded": int(PARTITION_WCU_PER_S / writes * 3600 * SHARDS / 1.15),
        }
    return {
        "orders_per_hour": orders_per_hour,
        "assumptions": {
            "shops_per_order": SHOPS_PER_ORDER,
            "events_per_sub_order_after_paid": EVENTS_PER_SUB_ORDER,
            "pickup_share": PICKUP_SHARE,
            "peak_factor": PEAK_FACTOR,
            "shards": SHARDS,
            "partition_wcu_per_s": PARTITION_WCU_PER_S,
        },
        "events_per_order": events,
        "indexes": rows,
        # Base table: every event is also an item of EVENTS#<day> (one partition a day, not sharded).
        "events_day_partition_wcu_per_s_peak": round(events * orders_s * PEAK_FACTOR, 1),
    }


def table(result: dict[str, Any]) -> str:
    s, d, p = result["stream"], result["deliveries"], result["partitions"]
    lines = [
        f"stream path: {result['events']} events ({result['stream_records']} stream records)"
        f" in {s['wall_s']} s = {s['events_per_s']} events/s;"
        f" DynamoDB per event {s['dynamodb_calls_per_event']}",
        f"deliveries: {d['outcomes']} to {d['shops']} shops in {d['wall_s']} s; the healthy endpoints'"
        f" all within {d['healthy_done_s']} s = {d['healthy_delivered_per_s']}/s"
        f" ({d['workers']} workers; {d['dead_endpoints']} dead endpoints cost one {d['timeout_s']} s timeout"
        f" each in parallel, {d['sequential_dead_cost_s']} s one after the other)",
        f"  DynamoDB per delivery {d['dynamodb_calls_per_delivery']}",
        f"partitions at {p['orders_per_hour']:,} orders/h ({p['events_per_order']} events/order, peak x"
        f"{p['assumptions']['peak_factor']}, {p['assumptions']['shards']} shards,"
        f" limit {p['assumptions']['partition_wcu_per_s']} WCU/s per partition):",
        f"  {'index':24} {'writes/order':>12} {'WCU/s avg':>10} {'peak 1 part.':>12} {'peak/shard':>10}"
        f" {'orders/h at limit: 1 part.':>27} {'sharded':>10}",
    ]
    for name, row in p["indexes"].items():
        lines.append(
            f"  {name:24} {row['writes_per_order']:>12} {row['wcu_per_s_one_partition']:>10}"
            f" {row['wcu_per_s_peak_one_partition']:>12} {row['wcu_per_s_peak_per_shard']:>10}"
            f" {row['orders_per_hour_at_limit_one_partition']:>27,}"
            f" {row['orders_per_hour_at_limit_sharded']:>10,}"
        )
    lines.append(
        f"  base table EVENTS#<day> (not sharded): {p['events_day_partition_wcu_per_s_peak']} WCU/s at peak"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.notifications", description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--shops", type=int, default=200)
    parser.add_argument("--dead", type=int, default=20, help="shops whose endpoint never answers in time")
    args = parser.parse_args(argv)
    result = run(args.events, args.shops, args.dead)
    print("Notifications (moto in process)")
    print(table(result))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
