"""The AWS of the local stack, played by a moto server on loopback: the environment that points boto3 and
botocore (and so PynamoDB) at it, the stack created in it from infra/mall-stack.yaml (the production
template) by CloudFormation, and the bucket policy that lets it play the image CDN. Used by
tools/local_stack.py (`make run`), its threads (tools/local_lambdas.py) and the bench.
"""

from __future__ import annotations

import json
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "mall-stack.yaml"
STAGE = "local"
REGION = "eu-west-1"


def aws_env(endpoint: str) -> dict[str, str]:
    """What points boto3/botocore (and so PynamoDB) at the moto server instead of AWS."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "STAGE": STAGE,
        "TABLE_NAME": f"digital-mall-{STAGE}",
    }


def create_stack() -> dict[str, str]:
    import boto3

    from tools import moto_cfn

    cloudformation = boto3.client("cloudformation", region_name=REGION)
    name = f"digital-mall-{STAGE}"
    with moto_cfn.quiet_unsupported_resources():
        cloudformation.create_stack(
            StackName=name,
            TemplateBody=TEMPLATE.read_text(),
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": STAGE}],
        )
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {name} ended {stack['StackStatus']}")
    # The upload -> queue notification moto's CloudFormation skips (tools/moto_cfn.py).
    moto_cfn.apply_bucket_notifications(name, TEMPLATE.read_text(), REGION)
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def serve_renditions(bucket: str) -> None:
    """Lets anyone GET public/ from the moto server, which then plays the CDN of production (IMAGE_BASE_URL).

    moto refuses anonymous reads of private objects, as S3 does. Production keeps the bucket private and
    serves public/ through a CDN with origin access; this bucket policy is the local stand-in, set here and
    not in the template, and it opens nothing but the renditions.
    """
    import boto3

    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LocalStandInForTheCdn",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/public/*",
            }
        ],
    }
    boto3.client("s3", region_name=REGION).put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def image_env(endpoint: str, outputs: dict[str, str]) -> dict[str, str]:
    """The image bucket and queue of the stack (storefronts fetch renditions from the moto server), and
    the payout and relist queues."""
    return {
        "IMAGE_BUCKET": outputs["ImageBucketName"],
        "IMAGE_QUEUE_NAME": outputs["ImageUploadQueueName"],
        "IMAGE_BASE_URL": f"{endpoint}/{outputs['ImageBucketName']}",
        "PAYOUT_QUEUE_NAME": outputs["PayoutQueueName"],
        "RELIST_QUEUE_NAME": outputs["RelistQueueName"],
    }
