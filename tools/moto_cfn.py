"""What moto's CloudFormation (pinned moto 5.2.5) leaves out of infra/mall-stack.yaml, applied by API calls.

moto creates an AWS::S3::Bucket without its NotificationConfiguration, and skips AWS::SQS::QueuePolicy,
AWS::CloudWatch::Alarm and AWS::SNS::Subscription with a warning (moto does not evaluate resource policies
anyway; the CDN resources are left out by the template's WithCdn=false). The bucket -> queue notification
is what makes an upload reach the image-processing Lambda, so the test suite and the local stack read it
from the template (one source of truth) and set it with PutBucketNotificationConfiguration once the stack
exists.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

# The alarms and their e-mail subscription are checked by cfn-lint instead
# (tests/unit/test_stack_template.py), and the app never reads them.
UNSUPPORTED_BY_MOTO = ("AWS::SQS::QueuePolicy", "AWS::CloudWatch::Alarm", "AWS::SNS::Subscription")


@contextmanager
def quiet_unsupported_resources() -> Iterator[None]:
    """Silences moto's warning and log line for the resource types listed above, and only those."""

    def keep(record: logging.LogRecord) -> bool:
        return not any(t in record.getMessage() for t in UNSUPPORTED_BY_MOTO)

    moto_logger = logging.getLogger("moto")
    moto_logger.addFilter(keep)
    try:
        with warnings.catch_warnings():
            for resource_type in UNSUPPORTED_BY_MOTO:
                warnings.filterwarnings(
                    "ignore", message=f"Tried to parse {resource_type}", category=UserWarning
                )
            yield
    finally:
        moto_logger.removeFilter(keep)


def apply_bucket_notifications(stack_name: str, template: str, region: str) -> int:
    """Sets each bucket's NotificationConfiguration from the template; returns how many buckets."""
    import boto3

    resources = yaml.safe_load(template)["Resources"]
    cloudformation = boto3.client("cloudformation", region_name=region)
    with quiet_unsupported_resources():  # moto parses the template again to describe it
        described = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    # The skipped QueuePolicy is listed without ids.
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"] for r in described if "LogicalResourceId" in r
    }
    sqs = boto3.client("sqs", region_name=region)
    s3 = boto3.client("s3", region_name=region)
    applied = 0
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::S3::Bucket":
            continue
        notification = resource.get("Properties", {}).get("NotificationConfiguration")
        if not notification:
            continue
        unsupported = set(notification) - {"QueueConfigurations"}
        if unsupported:
            # Say so rather than silently test a stack without the wiring production has.
            raise NotImplementedError(f"{logical_id}: {sorted(unsupported)} are not applied to moto")
        configurations = [
            _queue_configuration(entry, physical, sqs) for entry in notification["QueueConfigurations"]
        ]
        s3.put_bucket_notification_configuration(
            Bucket=physical[logical_id],
            NotificationConfiguration={"QueueConfigurations": configurations},
        )
        applied += 1
    return applied


def _queue_configuration(entry: dict[str, Any], physical: dict[str, str], sqs: Any) -> dict[str, Any]:
    queue = entry["Queue"]
    if not (isinstance(queue, dict) and list(queue) == ["Fn::GetAtt"] and queue["Fn::GetAtt"][1] == "Arn"):
        raise NotImplementedError(f"queue given as {queue!r}: only Fn::GetAtt [<queue>, Arn] is supported")
    queue_url = physical[queue["Fn::GetAtt"][0]]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    configuration: dict[str, Any] = {"QueueArn": arn, "Events": [entry["Event"]]}
    rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules")
    if rules:
        configuration["Filter"] = {
            "Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}
        }
    return configuration
