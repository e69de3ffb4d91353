"""Fixes to moto (pinned moto 5.2.5): two to DynamoDB, so the local stack behaves like DynamoDB at mall size,
and one to CloudFormation's event bus (3., below).

1. moto snapshots the *whole table* with deepcopy once per item of a TransactWriteItems call, to roll back
   on failure. With one table for the whole mall, a 40-item transaction on a seeded table took seconds.
   We evaluate every condition first, then apply the writes with an undo log of only the touched items.
2. moto's backend is not thread-safe: under the threaded server two transactions could interleave between
   a condition check and its write, which real DynamoDB never allows (and which would let the local stack
   oversell). Each DynamoDB request is made atomic with one lock.

Semantics kept: all-or-nothing, one cancellation reason per item in request order, no two operations on
the same item. Installed by the local stack, the test suite and the benchmark: tests/unit/test_moto_patches.py
checks the behaviour this file promises.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_LOCK = threading.RLock()
_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    original_call_action = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _LOCK:
            return original_call_action(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    _name_event_buses_from_the_template()
    _installed = True


def _name_event_buses_from_the_template() -> None:
    """3. moto's CloudFormation names an AWS::Events::EventBus after its logical id, ignoring the template's
    Name, and gives it no physical id (so Ref and DescribeStackResources have none). AWS uses Name and the
    name is the physical id; the relay publishes to the bus by that name (chalicelib/notify/channel.py)."""
    from moto.events.models import EventBus, events_backends

    def create(
        cls: type[EventBus],
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EventBus:
        properties = cloudformation_json.get("Properties", {})
        return events_backends[account_id][region_name].create_event_bus(
            name=properties.get("Name") or resource_name,
            event_source_name=properties.get("EventSourceName"),
        )

    EventBus.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]
    EventBus.physical_resource_id = property(lambda self: self.name)  # type: ignore[attr-defined]


def _item_key(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _LOCK:
        planned: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        seen: set[tuple[str, str]] = set()
        for entry in transact_items:
            if len(entry) != 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(entry.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            key = _item_key(self, op_type, op)
            marker = (op["TableName"], str(sorted(key.items())))
            if marker in seen:
                raise MultipleTransactionsException()
            seen.add(marker)
            planned.append((op_type, op, key))

        # Phase 1: every condition against the state before the transaction.
        reasons: list[tuple[str | None, str | None, Any]] = []
        for _, op, key in planned:
            condition = op.get("ConditionExpression")
            current = self.get_item(op["TableName"], key)
            if condition is not None and not get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            ).expr(current):
                old = None
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    old = current.to_json()["Attributes"]
                reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
            else:
                reasons.append((None, None, None))
        if any(code for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)

        # Phase 2: apply, undoing the touched items if moto rejects a write (e.g. a bad update expression).
        undo: list[tuple[str, dict[str, Any], Any]] = []
        try:
            for op_type, op, key in planned:
                table_name = op["TableName"]
                current = self.get_item(table_name, key)
                undo.append(
                    (table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None)
                )
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op_type == "Put":
                    self.put_item(table_name, op["Item"])
                elif op_type == "Delete":
                    self.delete_item(table_name, key)
                elif op_type == "Update":
                    self.update_item(table_name, key, op["UpdateExpression"], names, values)
        except Exception:
            for table_name, key, before in reversed(undo):
                if before is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, before)
            raise
