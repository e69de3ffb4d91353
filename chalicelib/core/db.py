"""The single DynamoDB table, its overloaded indexes and one paginated Query helper.

Every item type is a PynamoDB model subclassing `MallItem`; the `kind` discriminator lets one Query over
an item collection (a product and its variants) come back as the right classes. Key layout and access
patterns: docs/data-model.md. Requests only read by key (GetItem, Query, BatchGetItem).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any, TypeVar

from pynamodb.attributes import DiscriminatorAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.core import aws_sdk
from chalicelib.core.config import settings
from chalicelib.core.errors import InvalidInput

aws_sdk.install()

_ItemT = TypeVar("_ItemT", bound="MallItem")


class _Gsi1(GlobalSecondaryIndex["MallItem"]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class _Gsi2(GlobalSecondaryIndex["MallItem"]):
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class _Gsi3(GlobalSecondaryIndex["MallItem"]):
    class Meta:
        index_name = "gsi3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class MallItem(Model):
    class Meta:
        # Read at import; the stage's config.json sets TABLE_NAME. The endpoint comes from botocore's own
        # AWS_ENDPOINT_URL_DYNAMODB, which is how the local stack points the app at moto.
        table_name = settings().table_name
        region = settings().region
        max_retry_attempts = 3
        connect_timeout_seconds = 2
        read_timeout_seconds = 5

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)

    gsi1 = _Gsi1()
    gsi2 = _Gsi2()
    gsi3 = _Gsi3()


# One connection, so one botocore client (about 60 ms to create on a cold start) for every item type:
# subclasses inherit MallItem's. Nothing connects yet; the client is made on the first call.
MallItem._get_connection()

INDEX_KEYS = {
    None: ("pk", "sk"),
    "gsi1": ("gsi1pk", "gsi1sk"),
    "gsi2": ("gsi2pk", "gsi2sk"),
    "gsi3": ("gsi3pk", "gsi3sk"),
}

MAX_LIMIT = 100


def shard_of(key: str, shards: int) -> int:
    """A stable shard in 0..shards-1 for an id (the same in every process, unlike the salted hash()). Due-work
    indexes spread their writes over ``<partition>#<shard>`` this way: one index partition takes at most
    1,000 writes a second, and a throttled index write holds back the base-table write that carries it."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % shards


def shard_partitions(template: str, shards: int) -> list[str]:
    """Every partition of a sharded index key (``template`` has a ``{shard}`` field), for a job to Query."""
    return [template.format(shard=shard) for shard in range(shards)]


# A filtered Query evaluates this many items per call so that a page is rarely short.
_FILTERED_PAGE = 100


def query_page(
    model: type[_ItemT],
    hash_key: str,
    *,
    index: str | None = None,
    range_key_condition: Condition | None = None,
    filter_condition: Condition | None = None,
    limit: int,
    cursor: str | None,
    forward: bool = True,
    max_calls: int = 1,
) -> tuple[list[_ItemT], str | None]:
    """One page of a Query, at most `max_calls` DynamoDB calls, with an opaque cursor for the next page."""
    hash_name, _ = INDEX_KEYS[index]
    start = decode_cursor(cursor, index, hash_name, hash_key)
    queryable: Any = getattr(model, index) if index else model
    items: list[_ItemT] = []
    last_key = start
    for _ in range(max_calls):
        page_size = _FILTERED_PAGE if filter_condition is not None else limit - len(items)
        result = queryable.query(
            hash_key,
            range_key_condition,
            filter_condition,
            scan_index_forward=forward,
            last_evaluated_key=last_key,
            page_size=page_size,
        )
        page = next(result.page_iter)
        for raw in page.get("Items", []):
            items.append(model.from_raw_data(raw))
        last_key = page.get("LastEvaluatedKey")
        if not last_key or len(items) >= limit:
            break
    if len(items) > limit:
        items = items[:limit]
        last_key = _key_of(items[-1], index)
    return items, encode_cursor(last_key) if last_key else None


def _key_of(item: MallItem, index: str | None) -> dict[str, Any]:
    names = set(INDEX_KEYS[None]) | set(INDEX_KEYS[index])
    return {name: {"S": getattr(item, name)} for name in sorted(names)}


def encode_cursor(last_key: dict[str, Any]) -> str:
    flat = {name: value["S"] for name, value in last_key.items()}
    return base64.urlsafe_b64encode(json.dumps(flat, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str | None, index: str | None, hash_name: str, hash_key: str
) -> dict[str, Any] | None:
    """A cursor is only accepted for the partition it was issued for; anything else is a 400."""
    if cursor is None:
        return None
    allowed = set(INDEX_KEYS[None]) | set(INDEX_KEYS[index])
    try:
        flat = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: '[[[...'
        flat = None
    valid = (
        isinstance(flat, dict)
        and set(flat) == allowed
        and all(isinstance(v, str) and 0 < len(v) <= 1024 for v in flat.values())
        and flat.get(hash_name) == hash_key
    )
    if not valid:
        raise InvalidInput.single("cursor", "is not a valid cursor for this list")
    return {name: {"S": value} for name, value in flat.items()}


def _connection() -> Connection:
    return MallItem._get_connection().connection


def transaction() -> TransactWrite:
    """A TransactWrite on the mall table. Reasons for a cancellation come back in PynamoDB's order
    (condition checks, deletes, puts, updates), not in the order items were added."""
    return TransactWrite(connection=_connection())
