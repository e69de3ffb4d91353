"""How AWS authorises the calls the code makes (tools/aws_operations.py): the actions and ARNs checked."""

from __future__ import annotations

from tools.aws_operations import PLATFORM_GRANTS, Operation, authorisations, unexercised

ACCOUNT = "arn:aws:dynamodb:eu-west-1:123456789012"


def test_a_transaction_is_authorised_as_each_item_s_action() -> None:
    items = [
        {"Put": {"TableName": "t", "Item": {}}},
        {"Update": {"TableName": "t", "Key": {}}},
        {"ConditionCheck": {"TableName": "t", "Key": {}}},
        {"Delete": {"TableName": "t", "Key": {}}},
    ]
    pairs = authorisations("dynamodb", "TransactWriteItems", {"TransactItems": items}, "eu-west-1")
    table = f"{ACCOUNT}:table/t"
    assert pairs == [
        ("dynamodb:PutItem", table),
        ("dynamodb:UpdateItem", table),
        ("dynamodb:ConditionCheckItem", table),
        ("dynamodb:DeleteItem", table),
    ]


def test_an_index_query_is_authorised_on_the_index() -> None:
    pairs = authorisations("dynamodb", "Query", {"TableName": "t", "IndexName": "gsi1"}, "eu-west-1")
    assert pairs == [("dynamodb:Query", f"{ACCOUNT}:table/t/index/gsi1")]


def test_batches_and_s3_reads_map_to_the_actions_iam_knows() -> None:
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/q"
    assert authorisations("sqs", "SendMessageBatch", {"QueueUrl": url}, "eu-west-1") == [
        ("sqs:SendMessage", "arn:aws:sqs:eu-west-1:123456789012:q")
    ]
    assert authorisations("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, "eu-west-1") == [
        ("s3:GetObject", "arn:aws:s3:::b/k")
    ]
    assert authorisations("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "p"}, "eu-west-1") == [
        ("s3:ListBucket", "arn:aws:s3:::b")
    ]
    deleted = authorisations(
        "s3", "DeleteObjects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}]}}, "x"
    )
    assert deleted == [("s3:DeleteObject", "arn:aws:s3:::b/a")]


def test_a_grant_nothing_uses_is_reported_and_platform_grants_are_explained() -> None:
    used = {Operation("api", "dynamodb:GetItem", f"{ACCOUNT}:table/digital-mall-test")}
    missing = unexercised(used, "prod")
    assert ("api", "dynamodb:PutItem") in missing
    assert ("api", "dynamodb:GetItem") not in missing
    assert not {action for _, action in missing} & set(PLATFORM_GRANTS)
