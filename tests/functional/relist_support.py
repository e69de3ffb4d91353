"""Drives the relist queue in functional tests as the SQS event source does when deployed: every message
on the moto queue goes to the relist worker Lambda's handler (app.py relist_shops), one per invocation."""

from __future__ import annotations

from typing import Any

import boto3

QUEUE = "digital-mall-test-relist"


def relist_queue() -> tuple[Any, str]:
    sqs = boto3.client("sqs", region_name="eu-west-1")
    return sqs, sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]


def pending_messages() -> list[dict[str, Any]]:
    """The messages waiting, left on the queue (visible again at once)."""
    sqs, url = relist_queue()
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
        "Messages", []
    )
    return messages


def run_relisting(max_rounds: int = 50) -> int:
    """Delivers every queued relist message (and any continuation they queue) to the worker; returns how
    many were handled."""
    from app import relist_shops

    sqs, url = relist_queue()
    handled = 0
    for _ in range(max_rounds):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return handled
        for message in messages:
            relist_shops(sqs_event(message["Body"]), None)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1
    raise AssertionError("the relist queue never emptied")


def sqs_event(body: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": "m-1",
                "receiptHandle": "r-1",
                "body": body,
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:eu-west-1:123456789012:{QUEUE}",
                "awsRegion": "eu-west-1",
            }
        ]
    }
