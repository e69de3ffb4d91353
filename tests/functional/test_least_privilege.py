"""Least privilege, measured: the recorder (tools/aws_operations.py, installed by tests/conftest.py) sees the
code's AWS operations as IAM authorises them, per role, and not the tests' own calls. The suite-wide check
that every recorded operation is allowed by .chalice/policy-*.json runs at session end (tests/conftest.py)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest
import test_images
from test_images import BUCKET, Images, phone_jpeg

from tools import aws_operations
from tools.aws_operations import Operation

# The image tests' fixtures: a retailer with a product, and the Lambda client that runs the processor.
lambdas = test_images.lambdas
shop_images = test_images.shop_images


@pytest.fixture
def recorded() -> Iterator[aws_operations.Recorder]:
    recorder = aws_operations.Recorder()
    recorder.install()
    yield recorder
    recorder.uninstall()


def _actions(recorder: aws_operations.Recorder, role: str) -> set[str]:
    return {op.action for op in recorder.operations if op.role == role}


def test_an_upload_form_is_recorded_as_put_object_on_its_key(
    recorded: aws_operations.Recorder, shop_images: Images
) -> None:
    status, ticket = shop_images.presign()
    assert status == 201, ticket
    key = ticket["upload"]["fields"]["key"]
    bucket = "digital-mall-test-images-123456789012"
    assert Operation("api", "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}") in recorded.operations
    assert not aws_operations.refused(recorded.operations, "prod")


def test_the_image_function_s_calls_are_checked_against_its_own_role(
    recorded: aws_operations.Recorder, shop_images: Images
) -> None:
    shop_images.upload(phone_jpeg())
    shop_images.deliver()
    # The processor reads the upload and writes renditions with policy-images-*.json, not the API's role.
    assert {"s3:GetObject", "s3:PutObject", "dynamodb:UpdateItem"} <= _actions(recorded, "images")
    assert not aws_operations.refused(recorded.operations, "prod")
    assert not aws_operations.refused(recorded.operations, "dev")


def test_a_transaction_is_authorised_per_item_and_the_tests_own_calls_are_not_recorded(
    recorded: aws_operations.Recorder, api: Any, operator_key: str, shop_body: dict[str, Any]
) -> None:
    boto3.client("s3").list_buckets()  # the test's own call: no app.py or chalicelib frame on the stack
    status, created = api.call("POST", "/operator/shops", shop_body, key=operator_key)
    assert status == 201, created
    actions = _actions(recorded, "api")
    assert "s3:ListAllMyBuckets" not in actions and "s3:ListBuckets" not in actions
    assert "dynamodb:TransactWriteItems" not in actions  # IAM has no such action: one per item
    assert "dynamodb:PutItem" in actions


def test_an_operation_outside_the_policy_is_refused() -> None:
    table = "arn:aws:dynamodb:eu-west-1:123456789012:table/digital-mall-test"
    scan = Operation("api", "dynamodb:Scan", table)
    other_table = Operation("api", "dynamodb:GetItem", table.replace("mall-test", "mall-other"))
    processor_writing_the_queue = Operation(
        "images", "sqs:SendMessage", "arn:aws:sqs:eu-west-1:123456789012:digital-mall-test-payouts"
    )
    allowed = Operation("api", "dynamodb:GetItem", table)
    refused = aws_operations.refused({scan, other_table, processor_writing_the_queue, allowed}, "prod")
    assert [op for op, _ in refused] == sorted([scan, other_table, processor_writing_the_queue])
    assert dict(refused)[scan].endswith("table/digital-mall-prod")  # checked as the prod stage names it


def test_publishing_order_events_to_eventbridge_is_allowed(
    recorded: aws_operations.Recorder, aws: dict[str, str]
) -> None:
    from chalicelib.notify.channel import publish_to_eventbridge

    envelope = {"type": "order.paid", "created_at": "2026-01-01T00:00:00Z", "id": "evt_1"}
    assert publish_to_eventbridge([("evt_1", envelope)]) == {"evt_1"}
    bus = "arn:aws:events:eu-west-1:123456789012:event-bus/digital-mall-test"
    assert Operation("api", "events:PutEvents", bus) in recorded.operations
    assert not aws_operations.refused(recorded.operations, "prod")


def test_reading_the_stripe_secrets_from_ssm_is_allowed(
    recorded: aws_operations.Recorder, aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.payment import secrets

    name = "/digital-mall/test/stripe-secret-key"
    boto3.client("ssm").put_parameter(Name=name, Value="sk_test_x", Type="SecureString")
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.setenv("STRIPE_SECRET_KEY_PARAM", name)
    secrets._secret.cache_clear()
    secrets._ssm_client.cache_clear()
    try:
        assert secrets.stripe_secret_key() == "sk_test_x"
    finally:
        secrets._secret.cache_clear()
        secrets._ssm_client.cache_clear()
    parameter = f"arn:aws:ssm:eu-west-1:123456789012:parameter{name}"
    assert Operation("api", "ssm:GetParameter", parameter) in recorded.operations
    assert not aws_operations.refused(recorded.operations, "prod")


def test_a_delivery_that_loses_the_race_rereads_the_image_with_get_item(
    recorded: aws_operations.Recorder, shop_images: Images, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two deliveries of one upload both find it pending; the second one's conditional update fails and it
    reads the image again (GetItem, granted to the image function for this) to answer "already done"."""
    from chalicelib.images import service

    photo = phone_jpeg()
    shop_images.upload(photo)
    (message,) = shop_images.sqs.receive_message(QueueUrl=shop_images.queue_url, AttributeNames=["All"])[
        "Messages"
    ]
    found = service.find_upload
    stale: list[Any] = []

    def find_as_the_first_delivery_did(ref: Any) -> Any:
        if not stale:
            stale.append(found(ref))
        return copy.deepcopy(stale[0])  # each delivery its own copy of the item as it was then: pending

    monkeypatch.setattr(service, "find_upload", find_as_the_first_delivery_did)
    shop_images.invoke(message)
    # The second delivery still finds its upload (as when both run at once) and the same pending item.
    key = unquote_plus(json.loads(message["Body"])["Records"][0]["s3"]["object"]["key"])
    shop_images.s3.put_object(Bucket=BUCKET, Key=key, Body=photo, ContentType="image/jpeg")
    shop_images.invoke(message)
    assert [image["status"] for image in shop_images.listed()] == ["ready"]
    assert "dynamodb:GetItem" in _actions(recorded, "images")
    assert not aws_operations.refused(recorded.operations, "prod")
