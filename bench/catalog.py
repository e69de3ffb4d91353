"""DynamoDB calls and latency per catalog request, in process over moto.

The app runs through `chalice.test.Client` against moto's `mock_aws`, with the stack created from
infra/mall-stack.yaml exactly as tests/conftest.py does and the demo mall seeded by tools.local_stack.

Latencies here are moto + app CPU on this machine: useful to compare endpoints and to catch regressions,
not a prediction of DynamoDB latency. The call counts are exact.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import re
import statistics
import time
import warnings
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "mall-stack.yaml"
STAGE = "bench"
TABLE_NAME = f"digital-mall-{STAGE}"
REPEATS = 50

# The budget: one product or shop = 1 DynamoDB call, one list or search page <= 2. Routes that
# take a key pay one more GetItem (the key lookup in auth.service.authenticate); the budget shows it as "+1".
READ, LIST, WRITE = "read", "list", "write"
BUDGET = {READ: 1, LIST: 2, WRITE: None}


def bench_env() -> dict[str, str]:
    """The environment of tests/conftest.py, on a table of our own stage. Set before any botocore client
    exists (and before chalicelib is imported: MallItem reads TABLE_NAME at import)."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "STAGE": STAGE,
        "TABLE_NAME": TABLE_NAME,
        "IMAGE_BUCKET": f"{TABLE_NAME}-images-123456789012",
        "POWERTOOLS_LOG_LEVEL": "WARNING",  # as in prod; INFO would print one line per request
        # The demo mall's money (tools/demo_payouts.py) goes through the simulated Stripe, as in the tests.
        "PAYMENT_GATEWAY": "simulated",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench_not_a_real_secret",
        "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_bench_connect_not_a_real_secret",
    }


def _configure_env() -> None:
    os.environ.update(bench_env())
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        os.environ.pop(var, None)


# --- counting DynamoDB calls ------------------------------------------------------------------------


@dataclass
class Call:
    operation: str
    items: int = 0  # items a Query/GetItem evaluated (read), or items of a transaction
    read_units: float = 0.0  # estimated, see _read_units
    ms: float = 0.0  # time inside botocore (with mock_aws: moto's own work)
    failed: bool = False  # DynamoDB answered with an error (e.g. a condition failed): still a call


@dataclass
class CallCounter:
    """Records every DynamoDB API call made in this process.

    Hook: `botocore.client.BaseClient._make_api_call`, wrapped at class level. Why this one:
    * PynamoDB calls `client._make_api_call(name, kwargs)` directly (pynamodb.connection.base), and every
      botocore client class is generated at runtime as a subclass of BaseClient that does not override
      it, so one patch covers every client: the one behind `MallItem._get_connection()` (each model's
      TableConnection), the one of `chalicelib.core.db._connection()` (transactions), and clients that
      already existed before we patched, without knowing where PynamoDB caches them.
    * It counts *logical* API calls, which is what the budget is about: botocore's retries and moto's
      interception (mock_aws answers from a `before-send` handler) both happen inside it, so a retried
      call counts once and moto is seen exactly like DynamoDB would be.
    Per-client `before-call.dynamodb` handlers would work too, but need every client found and hooked.
    """

    calls: list[Call] = field(default_factory=list)
    measure_capacity: bool = False
    _suspended: bool = False

    @contextmanager
    def installed(self) -> Iterator[CallCounter]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        counter = self

        def _make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            counted = client.meta.service_model.service_name == "dynamodb" and not counter._suspended
            started = time.perf_counter()
            try:
                response = original(client, operation_name, api_params)
            except Exception:
                if counted:
                    elapsed = (time.perf_counter() - started) * 1000
                    counter._record(client, original, operation_name, api_params, None, elapsed, True)
                raise
            if counted:
                elapsed = (time.perf_counter() - started) * 1000
                counter._record(client, original, operation_name, api_params, response, elapsed)
            return response

        BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]
        try:
            yield self
        finally:
            BaseClient._make_api_call = original  # type: ignore[method-assign]

    def reset(self) -> list[Call]:
        calls, self.calls = self.calls, []
        return calls

    def _record(
        self,
        client: Any,
        original: Callable[..., Any],
        operation: str,
        params: dict[str, Any],
        response: dict[str, Any] | None,
        elapsed_ms: float,
        failed: bool = False,
    ) -> None:
        """One call; `response` is None when DynamoDB answered with an error (`failed`)."""
        call = Call(operation, ms=elapsed_ms, failed=failed)
        if operation == "TransactWriteItems":
            call.items = len(params.get("TransactItems", []))
        elif operation == "BatchGetItem":
            call.items = sum(len(r.get("Keys", [])) for r in params.get("RequestItems", {}).values())
        if self.measure_capacity and response is not None and operation in ("GetItem", "Query"):
            self._suspended = True
            try:
                evaluated = _evaluated_items(client, original, operation, params, response)
            finally:
                self._suspended = False
            call.items = len(evaluated)
            call.read_units = _read_units(evaluated, bool(params.get("ConsistentRead")))
        self.calls.append(call)


def _evaluated_items(
    client: Any, original: Callable[..., Any], operation: str, params: dict[str, Any], response: Any
) -> list[dict[str, Any]]:
    """The items DynamoDB reads (and bills) for a call. A filtered Query bills what it evaluates, not
    what it returns; `Limit` applies before the filter, so the same Query without its filter returns
    exactly the evaluated items. That extra Query is made uncounted, only on the probe request."""
    if operation == "GetItem":
        return [response["Item"]] if "Item" in response else []
    if "FilterExpression" not in params:
        return list(response.get("Items", []))
    unfiltered = {k: v for k, v in params.items() if k != "FilterExpression"}
    used = " ".join(str(params.get(k, "")) for k in ("KeyConditionExpression", "ProjectionExpression"))
    for key in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        kept = {n: v for n, v in params.get(key, {}).items() if re.search(re.escape(n) + r"\b", used)}
        unfiltered.pop(key, None)
        if kept:
            unfiltered[key] = kept
    return list(original(client, "Query", unfiltered).get("Items", []))


def _read_units(items: list[dict[str, Any]], consistent: bool) -> float:
    """DynamoDB's rule: one call reads its items' total size rounded up to 4 KB, 1 unit per 4 KB
    strongly consistent, half eventually consistent; an empty read still costs the minimum."""
    size = sum(_item_size(item) for item in items)
    units = max(1, math.ceil(size / 4096))
    return units * (1.0 if consistent else 0.5)


def _item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return math.ceil(len(inner.lstrip("-").replace(".", "").strip("0") or "0") / 2) + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in inner.items())
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: v}) for v in inner)
    return 0


# --- the requests -----------------------------------------------------------------------------------


@dataclass
class Case:
    method: str
    path: str
    kind: str
    auth: bool = False
    body: Callable[[int], Any] | None = None  # request number -> JSON body

    @property
    def budget(self) -> int | None:
        base = BUDGET[self.kind]
        return None if base is None else base + (1 if self.auth else 0)

    @property
    def budget_label(self) -> str:
        base = BUDGET[self.kind]
        return "-" if base is None else f"{base}+1" if self.auth else str(base)


def _percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def run(repeats: int = REPEATS) -> list[dict[str, Any]]:
    _configure_env()
    import json

    from chalice.test import Client
    from moto import mock_aws

    from tools import moto_patches

    moto_patches.install()

    with mock_aws():
        import boto3

        from tools.local_stack import StackInfo, seed_demo

        outputs = _deploy_stack(boto3)
        info = StackInfo(
            api_url="in-process",
            aws_endpoint="mock_aws",
            table_name=outputs["TableName"],
            image_bucket=outputs["ImageBucketName"],
        )
        seed_demo(info)

        from app import app

        counter = CallCounter()
        with counter.installed(), Client(app, project_dir=str(ROOT)) as client:

            def call(method: str, path: str, body: Any = None, key: str | None = None) -> tuple[int, Any]:
                headers = {"Content-Type": "application/json"}
                if key:
                    headers["Authorization"] = f"Bearer {key}"
                payload = json.dumps(body).encode() if body is not None else b""
                response = client.http.request(method, path, headers=headers, body=payload)
                text = response.body.decode() if response.body else ""
                return response.status_code, json.loads(text) if text else None

            shop_id = info.retailer_shop_id
            _, page = call("GET", "/retailer/products?limit=100", key=info.retailer_key)
            product_id = page["items"][0]["id"]
            _, product = call("GET", f"/products/{product_id}")
            variant_id = product["variants"][0]["id"]
            name = product["name"]
            counter.reset()

            cases = [
                Case("GET", "/shops", LIST),
                Case("GET", "/shops?category=bakery", LIST),
                Case("GET", "/shops/near?lat=51.0543&lng=3.7219&radius_km=2", LIST),
                Case("GET", f"/shops/{shop_id}", READ),
                Case("GET", f"/shops/{shop_id}/products", LIST),
                Case("GET", "/products?category=bakery", LIST),
                Case("GET", "/products?q=chocolate", LIST),
                Case("GET", "/products?q=dark+chocolate", LIST),
                Case("GET", f"/products/{product_id}", READ),
                Case("GET", "/retailer/shop", READ, auth=True),
                Case("GET", "/retailer/products", LIST, auth=True),
                # Alternates between two names so every request really renames (and re-indexes) it.
                Case(
                    "PATCH",
                    f"/retailer/products/{product_id}",
                    WRITE,
                    auth=True,
                    body=lambda i: {"name": name if i % 2 else f"{name} deluxe"},
                ),
                Case(
                    "POST",
                    f"/retailer/products/{product_id}/variants/{variant_id}/stock",
                    WRITE,
                    auth=True,
                    body=lambda i: {"set": 20 + i % 5},
                ),
            ]
            # Variant ids extend their product id: replace them first.
            labels = {variant_id: "{variant_id}", product_id: "{product_id}", shop_id: "{shop_id}"}
            rows = []
            for case in cases:
                key = info.retailer_key if case.auth else None
                shown = case.path
                for value, label in labels.items():
                    shown = shown.replace(value, label)
                rows.append(_measure(case, shown, call, counter, key, repeats))
    return rows


def _deploy_stack(boto3: Any) -> dict[str, str]:
    """tests/conftest.py deploy_stack, for our stage."""
    from tools import moto_cfn

    cloudformation = boto3.client("cloudformation")
    with moto_cfn.quiet_unsupported_resources():
        cloudformation.create_stack(
            StackName=f"digital-mall-{STAGE}",
            TemplateBody=TEMPLATE.read_text(),
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": STAGE}],
        )
    stack = cloudformation.describe_stacks(StackName=f"digital-mall-{STAGE}")["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack ended {stack['StackStatus']}")
    moto_cfn.apply_bucket_notifications(f"digital-mall-{STAGE}", TEMPLATE.read_text(), "eu-west-1")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@contextmanager
def quiet_moto_cloudformation() -> Iterator[None]:
    """moto warns about every template resource it cannot model (e.g. AWS::SQS::QueuePolicy). Kept for
    bench/checkout.py; this module itself uses tools.moto_cfn as tests/conftest.py does."""
    log = logging.getLogger("moto")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        log.setLevel(level)


def _measure(
    case: Case,
    shown: str,
    call: Callable[..., tuple[int, Any]],
    counter: CallCounter,
    key: str | None,
    repeats: int,
) -> dict[str, Any]:
    body = case.body
    # Probe (also the warm-up): exact calls, items evaluated and read units, with the extra uncounted
    # unfiltered Query that sizing a filtered Query needs. Not timed.
    counter.measure_capacity = True
    status, _ = call(case.method, case.path, body(0) if body else None, key)
    counter.measure_capacity = False
    probe = counter.reset()

    timings: list[float] = []
    app_timings: list[float] = []
    counts: list[int] = []
    statuses = {status}
    for i in range(1, repeats + 1):
        payload = body(i) if body else None
        started = time.perf_counter()
        status, _ = call(case.method, case.path, payload, key)
        total = (time.perf_counter() - started) * 1000
        calls_made = counter.reset()
        timings.append(total)
        app_timings.append(total - sum(c.ms for c in calls_made))
        statuses.add(status)
        counts.append(len(calls_made))

    calls = len(probe)
    budget = case.budget
    verdict = "-" if budget is None else "PASS" if max([calls, *counts]) <= budget else "OVER"
    reads = [c for c in probe if c.operation in ("GetItem", "Query")]
    return {
        "method": case.method,
        "path": shown,
        "kind": case.kind,
        "status": sorted(statuses),
        "calls": calls,
        "calls_min": min(counts, default=calls),
        "calls_max": max(counts, default=calls),
        "operations": [_op_label(c) for c in probe],
        "budget": budget,
        "budget_label": case.budget_label,
        "verdict": verdict,
        "items_read": sum(c.items for c in reads),
        "read_units_est": round(sum(c.read_units for c in reads), 1),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(_percentile(timings, 95), 2),
        # The request minus the time spent inside the DynamoDB calls: the app's own CPU per request.
        "app_p50_ms": round(statistics.median(app_timings), 2),
        "app_p95_ms": round(_percentile(app_timings, 95), 2),
        "requests": len(timings),
    }


def _op_label(call: Call) -> str:
    label = f"{call.operation}({call.items})" if call.operation == "TransactWriteItems" else call.operation
    return f"{label}!failed" if call.failed else label


def table(rows: list[dict[str, Any]]) -> str:
    headers = ["endpoint", "status", "calls", "budget", "verdict", "items", "RCU~"]
    headers += ["p50 ms", "p95 ms", "app p50", "app p95", "DynamoDB operations"]
    lines = []
    for r in rows:
        calls = str(r["calls"])
        if r["calls_min"] != r["calls_max"] or r["calls_min"] != r["calls"]:
            calls += f" ({r['calls_min']}-{r['calls_max']})"
        writes = r["kind"] == WRITE
        lines.append(
            [
                f"{r['method']} {r['path']}",
                ",".join(map(str, r["status"])),
                calls,
                r["budget_label"],
                r["verdict"],
                str(r["items_read"]),
                "-" if writes and not r["read_units_est"] else f"{r['read_units_est']:g}",
                f"{r['p50_ms']:.1f}",
                f"{r['p95_ms']:.1f}",
                f"{r['app_p50_ms']:.1f}",
                f"{r['app_p95_ms']:.1f}",
                _compress(r["operations"]),
            ]
        )
    return render(headers, lines, right={1, 2, 3, 5, 6, 7, 8, 9, 10})


def _compress(ops: list[str]) -> str:
    """GetItem, Query, Query -> GetItem, 2x Query."""
    groups = [(op, len(list(run))) for op, run in itertools.groupby(ops)]
    return ", ".join(op if n == 1 else f"{n}x {op}" for op, n in groups)


def render(headers: list[str], lines: list[list[str]], right: Collection[int] = ()) -> str:
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]

    def fmt(cells: list[str]) -> str:
        cells_widths = enumerate(zip(cells, widths, strict=True))
        padded = (c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in cells_widths)
        return "  ".join(padded).rstrip()

    return "\n".join([fmt(headers), "  ".join("-" * w for w in widths), *(fmt(line) for line in lines)])
