"""What Lambda runs that `chalice local` does not, as threads of the local stack (tools/local_stack.py):
the scheduled jobs (Scheduler), the SQS-triggered functions fed by their queues (QueueConsumer: image
processing, payouts, relisting) and the table's stream relay (StreamRelay). Each calls the same functions
the deployed stack does.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from tools.local_aws import REGION


class Scheduler(threading.Thread):
    """`chalice local` runs no @app.schedule functions: this runs the same ones on their rate."""

    def __init__(
        self,
        every_seconds: float = 60.0,
        relay_every_seconds: float = 10.0,
        sweep_every_seconds: float = 3600.0,
    ) -> None:
        super().__init__(name="local-scheduler", daemon=True)
        self._every = every_seconds
        # Faster than the deployed 1 minute: a developer watching a webhook should not wait for it.
        self._relay_every = relay_every_seconds
        # Deployed daily; hourly here, first an hour after start (POST /dev/payouts/run runs it at once).
        self._sweep_every = sweep_every_seconds
        self._stopped = threading.Event()

    def run(self) -> None:
        from chalicelib.notify.channel import publish_to_log
        from chalicelib.notify.relay import relay_notifications
        from chalicelib.order.service import expire_holds

        last_expiry = last_sweep = time.monotonic()
        while not self._stopped.wait(min(self._every, self._relay_every)):
            if time.monotonic() - last_sweep >= self._sweep_every:
                last_sweep = time.monotonic()
                try:
                    # Through the payout queue, as deployed: the PayoutWorker thread pays the shops.
                    from chalicelib.payout.sweep import sweep

                    print(f"[scheduler] payout sweep: {sweep()}", flush=True)
                except Exception as exc:
                    print(f"[scheduler] payout sweep failed: {exc!r}", flush=True)
            try:
                # EVENT_CHANNEL=log: no EventBridge locally, the events are log lines (and GET /dev/events).
                relayed = relay_notifications(publisher=publish_to_log)
                if relayed["events"] or relayed["deliveries"]:
                    print(f"[scheduler] notifications: {relayed}", flush=True)
            except Exception as exc:
                print(f"[scheduler] notification relay failed: {exc!r}", flush=True)
            if time.monotonic() - last_expiry < self._every:
                continue
            last_expiry = time.monotonic()
            try:
                for order_id, outcome in expire_holds():
                    print(f"[scheduler] order {order_id}: {outcome}", flush=True)
            except Exception as exc:  # a local helper must not die on one bad run
                print(f"[scheduler] expiry run failed: {exc!r}", flush=True)
            try:
                # Deployed hourly; a run that finds nothing due is one Query.
                from chalicelib.order.no_shows import cancel_no_shows, retry_stalled_refunds

                for r in cancel_no_shows():
                    print(f"[scheduler] no-show {r.order_id}/{r.shop_id}: {r.outcome}", flush=True)
                for refund_id, status in retry_stalled_refunds():
                    print(f"[scheduler] refund {refund_id} retried: {status}", flush=True)
            except Exception as exc:
                print(f"[scheduler] no-show run failed: {exc!r}", flush=True)

    def stop(self) -> None:
        self._stopped.set()


class QueueConsumer(threading.Thread):
    """`chalice local` runs no SQS-triggered functions: this receives a queue's messages and calls the same
    handler the Lambda runs (app.py), with the event the SQS event source would build, one message per
    invocation (batch_size=1, as deployed). A failure leaves the message to come back after the queue's
    visibility timeout, as on Lambda."""

    def __init__(self, name: str, queue_url: str, queue_arn: str, handler: str) -> None:
        super().__init__(name=f"local-{name}", daemon=True)
        self._label = name
        self._queue_url, self._queue_arn, self._handler = queue_url, queue_arn, handler
        self._stopped = threading.Event()

    def run(self) -> None:
        import boto3

        import app

        handler = getattr(app, self._handler)
        sqs = boto3.client("sqs", region_name=REGION)
        while not self._stopped.is_set():
            try:
                messages = sqs.receive_message(
                    QueueUrl=self._queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=1,
                    AttributeNames=["All"],
                ).get("Messages", [])
            except Exception as exc:  # moto stopping under us, or a hiccup: try again shortly
                if not self._stopped.wait(1):
                    print(f"[{self._label}] cannot read the queue: {exc!r}", flush=True)
                continue
            for message in messages:
                try:
                    handler({"Records": [self._record(message)]}, None)
                except Exception as exc:
                    print(f"[{self._label}] failed, the message will come back: {exc!r}", flush=True)
                    continue
                sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._queue_arn,
            "awsRegion": REGION,
        }

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)


class StreamRelay(threading.Thread):
    """`chalice local` runs no event sources: this reads the table's stream from moto, as Lambda's poller
    does, and hands each batch to the same `relay_order_events` function (app.py) the deployed stream
    invokes. It starts at the stream's end: what seeding wrote is left to the scheduled sweep."""

    def __init__(self, stream_arn: str, every_seconds: float = 0.5) -> None:
        super().__init__(name="local-stream-relay", daemon=True)
        self._arn = stream_arn
        self._every = every_seconds
        self._stopped = threading.Event()

    def run(self) -> None:
        import boto3

        import app

        streams = boto3.client("dynamodbstreams", region_name=REGION)
        iterator: str | None = None
        while not self._stopped.wait(self._every):
            try:
                if iterator is None:
                    shard = streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"][0]
                    iterator = streams.get_shard_iterator(
                        StreamArn=self._arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
                    )["ShardIterator"]
                answer = streams.get_records(ShardIterator=iterator, Limit=100)
            except Exception as exc:  # moto stopping under us, or a hiccup: start again from the end
                print(f"[stream] cannot read the table's stream: {exc!r}", flush=True)
                iterator = None
                continue
            iterator = answer.get("NextShardIterator")
            if answer["Records"]:
                # As Lambda hands them over: JSON (times in epoch seconds), the stream's ARN on each.
                records = [
                    {
                        **json.loads(json.dumps(r, default=lambda d: d.timestamp())),
                        "eventSourceARN": self._arn,
                    }
                    for r in answer["Records"]
                ]
                try:
                    app.relay_order_events({"Records": records}, None)
                except Exception as exc:  # never raises by design; the sweep catches up regardless
                    print(f"[stream] relay failed: {exc!r}", flush=True)

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)
