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

4. (opt-in, ``install(indexed_queries=True)``: the payout benchmark) moto answers every Query, of the
   table or of an index, by sorting *every item of the table* and then filtering on the hash key: a
   10,000-shop mall (220,000 items) takes about a second per Query. With the option, each table keeps a
   map from hash key to items, for itself and for each GSI, brought up to date from the keys every write
   touched; a Query sees only its partition's items and moto's own code does the rest (range condition,
   sort, pagination), so the answers are the same (tests/unit/test_moto_patches.py compares them).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import threading
from collections.abc import Iterator
from typing import Any

_LOCK = threading.RLock()
_installed = False


def install(indexed_queries: bool = False) -> None:
    global _installed, _use_index
    if indexed_queries:
        _index_queries()
        _use_index = True
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


# --- 4. indexed queries -----------------------------------------------------------------------------------

_restricted = threading.local()
_indexed = False
_use_index = False  # the wrappers stay installed; they index only while this is on


class _Partitions:
    """Per table: item key -> its hash values (table and each GSI); (index, hash value) -> item keys."""

    def __init__(self, table: Any) -> None:
        self.where: dict[tuple[str, str], dict[str | None, str]] = {}
        self.members: dict[tuple[str | None, str], set[tuple[str, str]]] = {}
        self.dirty: set[tuple[str, str]] = set()
        for item in _every_item(table):
            self._place(table, _key_of(table, item.attrs), item)

    def refresh(self, table: Any) -> None:
        for key in self.dirty:
            hash_value = table.items.get(_dynamo(key[0]))
            item = hash_value.get(_dynamo(key[1])) if isinstance(hash_value, dict) and key[1] else hash_value
            self._place(table, key, item if hasattr(item, "attrs") else None)
        self.dirty.clear()

    def _place(self, table: Any, key: tuple[str, str], item: Any) -> None:
        for index, value in self.where.pop(key, {}).items():
            self.members.get((index, value), set()).discard(key)
        if item is None:
            return
        placed: dict[str | None, str] = {None: key[0]}
        for gsi in table.global_indexes:
            hash_attr = next(k["AttributeName"] for k in gsi.schema if k["KeyType"] == "HASH")
            if hash_attr in item.attrs:
                placed[gsi.name] = _text(item.attrs[hash_attr])
        for index, value in placed.items():
            self.members.setdefault((index, value), set()).add(key)
        self.where[key] = placed

    def items(self, table: Any, index: str | None, value: str) -> list[Any]:
        found = []
        for hash_text, range_text in self.members.get((index, value), ()):
            bucket = table.items.get(_dynamo(hash_text))
            item = bucket.get(_dynamo(range_text)) if isinstance(bucket, dict) and range_text else bucket
            if item is not None:
                found.append(item)
        return found


def _text(value: Any) -> str:
    import json

    return json.dumps(value.to_json(), sort_keys=True)


def _dynamo(text: str) -> Any:
    import json

    from moto.dynamodb.models.dynamo_type import DynamoType

    return DynamoType(json.loads(text))


def _key_of(table: Any, attrs: dict[str, Any]) -> tuple[str, str]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    def text(name: str | None) -> str:
        if name is None or name not in attrs:
            return ""
        value = attrs[name]
        return _text(value if isinstance(value, DynamoType) else DynamoType(value))

    return text(table.hash_key_attr), text(table.range_key_attr)


def _every_item(table: Any) -> list[Any]:
    items: list[Any] = []
    for bucket in table.items.values():
        items.extend(bucket.values() if isinstance(bucket, dict) else [bucket])
    return items


def _index_queries() -> None:
    global _indexed
    if _indexed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original_all_items, original_query = Table.all_items, Table.query

    def all_items(self: Any) -> list[Any]:
        restricted = getattr(_restricted, "items", None)
        return restricted if restricted is not None else original_all_items(self)

    signature = inspect.signature(original_query)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _use_index or getattr(_restricted, "bypass", False):
            return original_query(self, *args, **kwargs)
        bound = signature.bind(self, *args, **kwargs).arguments
        index, hash_key = bound.get("index_name"), bound.get("hash_key")
        conditions = bound.get("hash_key_conditions") or []
        if index is not None and not any(g.name == index for g in self.global_indexes):
            return original_query(self, *args, **kwargs)  # a local index: moto's way
        value = conditions[0][1] if len(conditions) == 1 else hash_key
        if value is None:
            return original_query(self, *args, **kwargs)
        partitions = self.__dict__.get("_mall_partitions")
        if partitions is None:
            partitions = self.__dict__["_mall_partitions"] = _Partitions(self)
        partitions.refresh(self)
        # Candidates only; moto's own code checks the hash key again, sorts and paginates.
        _restricted.items = partitions.items(self, index, _text(value))
        try:
            return original_query(self, *args, **kwargs)
        finally:
            _restricted.items = None

    def touching(method: Any, key_of: Any) -> Any:
        def write(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, table_name, *args, **kwargs)
            finally:
                table = self.get_table(table_name)
                partitions = table.__dict__.get("_mall_partitions")
                if partitions is not None:
                    partitions.dirty.add(_key_of(table, key_of(args, kwargs)))
                    if not _use_index:  # indexing was turned off: the map would go stale, drop it
                        del table.__dict__["_mall_partitions"]

        return write

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    DynamoDBBackend.put_item = touching(  # type: ignore[method-assign]
        DynamoDBBackend.put_item, lambda a, k: k.get("item_attrs", a[0] if a else {})
    )
    DynamoDBBackend.update_item = touching(  # type: ignore[method-assign]
        DynamoDBBackend.update_item, lambda a, k: k.get("key", a[0] if a else {})
    )
    DynamoDBBackend.delete_item = touching(  # type: ignore[method-assign]
        DynamoDBBackend.delete_item, lambda a, k: k.get("key", a[0] if a else {})
    )
    _indexed = True


@contextlib.contextmanager
def unindexed_queries() -> Iterator[None]:
    """moto's own Query, for comparing answers (tests/unit/test_moto_patches.py)."""
    _restricted.bypass = True
    try:
        yield
    finally:
        _restricted.bypass = False


@contextlib.contextmanager
def indexed_queries() -> Iterator[None]:
    """The indexed Query for a block only (a test), leaving moto's own outside it."""
    global _use_index
    install(indexed_queries=True)
    try:
        yield
    finally:
        _use_index = False
