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
