"""tools/moto_patches.py keeps its promises: transactions all-or-nothing with one reason per item, and the
opt-in indexed Query answering exactly what moto's own Query answers, after any mix of writes."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from tools import moto_patches

TABLE = "patch-test"


@pytest.fixture(scope="module")
def client() -> Any:
    with moto_patches.indexed_queries(), mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gpk", "gsk")
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi",
                    "KeySchema": [
                        {"AttributeName": "gpk", "KeyType": "HASH"},
                        {"AttributeName": "gsk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        yield dynamodb


def _key(n: int) -> dict[str, Any]:
    return {"pk": {"S": f"P{n % 4}"}, "sk": {"S": f"S{n:03d}"}}


writes = st.lists(
    st.tuples(
        st.sampled_from(["put", "update", "remove_gsi", "delete", "transact"]),
        st.integers(0, 30),
        st.sampled_from(["A", "B", "C"]),
        st.integers(0, 9),
    ),
    max_size=40,
)


def _apply(client: Any, op: str, n: int, partition: str, order: int) -> None:
    key, gsi = _key(n), {":p": {"S": partition}, ":s": {"S": f"{order}"}}
    if op == "put":
        client.put_item(TableName=TABLE, Item={**key, "gpk": {"S": partition}, "gsk": {"S": f"{order}"}})
    elif op == "update":
        client.update_item(
            TableName=TABLE, Key=key, UpdateExpression="SET gpk = :p, gsk = :s", ExpressionAttributeValues=gsi
        )
    elif op == "remove_gsi":
        client.update_item(TableName=TABLE, Key=key, UpdateExpression="REMOVE gpk, gsk")
    elif op == "delete":
        client.delete_item(TableName=TABLE, Key=key)
    else:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": key,
                        "UpdateExpression": "SET gpk = :p, gsk = :s",
                        "ExpressionAttributeValues": gsi,
                    }
                }
            ]
        )


def _queries(client: Any) -> list[Any]:
    answers = []
    for partition in ("A", "B", "C", "Z"):
        for forward in (True, False):
            answers.append(
                client.query(
                    TableName=TABLE,
                    IndexName="gsi",
                    KeyConditionExpression="gpk = :p AND gsk < :s",
                    ExpressionAttributeValues={":p": {"S": partition}, ":s": {"S": "7"}},
                    ScanIndexForward=forward,
                    Limit=3,
                )
            )
    for n in range(4):
        answers.append(
            client.query(
                TableName=TABLE,
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": f"P{n}"}},
            )
        )
    return [(a["Items"], a.get("LastEvaluatedKey")) for a in answers]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes)
def test_indexed_queries_answer_what_motos_own_query_answers(client: Any, operations: Any) -> None:
    for operation in operations:
        _apply(client, *operation)
        indexed = _queries(client)
        with moto_patches.unindexed_queries():
            assert indexed == _queries(client)


def test_a_transaction_is_all_or_nothing_with_one_reason_per_item(client: Any) -> None:
    client.put_item(TableName=TABLE, Item={**_key(100), "n": {"N": "1"}})
    items = [
        {"Put": {"TableName": TABLE, "Item": {**_key(101), "n": {"N": "1"}}}},
        {
            "Update": {
                "TableName": TABLE,
                "Key": _key(100),
                "UpdateExpression": "SET n = :two",
                "ConditionExpression": "n = :zero",
                "ExpressionAttributeValues": {":two": {"N": "2"}, ":zero": {"N": "0"}},
            }
        },
    ]
    with pytest.raises(client.exceptions.TransactionCanceledException) as cancelled:
        client.transact_write_items(TransactItems=items)

    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert "Item" not in client.get_item(TableName=TABLE, Key=_key(101))
    assert client.get_item(TableName=TABLE, Key=_key(100))["Item"]["n"] == {"N": "1"}


def test_two_operations_on_one_item_are_refused_as_dynamodb_refuses_them(client: Any) -> None:
    put = {"Put": {"TableName": TABLE, "Item": {**_key(110), "n": {"N": "1"}}}}
    check = {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": _key(110),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    with pytest.raises(client.exceptions.ClientError) as refused:
        client.transact_write_items(TransactItems=[put, check])

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "Item" not in client.get_item(TableName=TABLE, Key=_key(110))


def test_a_write_moto_rejects_midway_undoes_the_writes_before_it(client: Any) -> None:
    client.put_item(TableName=TABLE, Item={**_key(120), "n": {"S": "not a number"}})
    items = [
        {"Put": {"TableName": TABLE, "Item": {**_key(121), "n": {"N": "1"}}}},
        {
            "Update": {
                "TableName": TABLE,
                "Key": _key(122),
                "UpdateExpression": "SET n = :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        # Passes every condition, fails when applied: adding a number to a string.
        {
            "Update": {
                "TableName": TABLE,
                "Key": _key(120),
                "UpdateExpression": "SET n = n + :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
    ]
    with pytest.raises(client.exceptions.ClientError):
        client.transact_write_items(TransactItems=items)

    assert "Item" not in client.get_item(TableName=TABLE, Key=_key(121))
    assert "Item" not in client.get_item(TableName=TABLE, Key=_key(122))
    assert client.get_item(TableName=TABLE, Key=_key(120))["Item"]["n"] == {"S": "not a number"}


def test_a_transaction_copies_only_the_items_it_touches(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's own TransactWriteItems deep-copies the whole table: its cost grew with the table."""
    import copy

    copied = 0
    original = copy.deepcopy

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal copied
        copied += 1
        return original(*args, **kwargs)

    def copies_for_one_transaction(n: int) -> int:
        nonlocal copied
        copied = 0
        monkeypatch.setattr(copy, "deepcopy", counting)
        try:
            client.transact_write_items(
                TransactItems=[{"Put": {"TableName": TABLE, "Item": {**_key(n), "n": {"N": "1"}}}}]
            )
        finally:
            monkeypatch.setattr(copy, "deepcopy", original)
        return copied

    small = copies_for_one_transaction(130)
    for i in range(200):
        client.put_item(TableName=TABLE, Item={"pk": {"S": "BULK"}, "sk": {"S": f"{i:04d}"}, "n": {"N": "1"}})
    assert copies_for_one_transaction(131) == small


def test_each_dynamodb_request_waits_for_the_one_before_it(client: Any) -> None:
    """The lock moto's threaded server shares: a request never runs while another one holds it."""
    import threading

    answered = threading.Event()

    def request() -> None:
        client.get_item(TableName=TABLE, Key=_key(140))
        answered.set()

    with moto_patches._LOCK:
        worker = threading.Thread(target=request, daemon=True)
        worker.start()
        assert not answered.wait(0.5), "a request ran while another held the lock"
    assert answered.wait(10)
    worker.join(10)


def test_an_event_bus_from_a_template_is_named_and_identified_by_its_name(client: Any) -> None:
    import json

    import boto3

    template = {
        "Resources": {
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "mall-orders-test"}},
        },
        "Outputs": {"BusName": {"Value": {"Ref": "Bus"}}},
    }
    cloudformation = boto3.client("cloudformation", region_name="eu-west-1")
    cloudformation.create_stack(StackName="bus-test", TemplateBody=json.dumps(template))

    events = boto3.client("events", region_name="eu-west-1")
    assert events.describe_event_bus(Name="mall-orders-test")["Name"] == "mall-orders-test"
    (output,) = cloudformation.describe_stacks(StackName="bus-test")["Stacks"][0]["Outputs"]
    assert output["OutputValue"] == "mall-orders-test"
    (resource,) = cloudformation.describe_stack_resources(StackName="bus-test")["StackResources"]
    assert resource["PhysicalResourceId"] == "mall-orders-test"
