"""`python -m bench.checkout`: DynamoDB calls, Stripe calls and latency per cart operation and checkout.

In process, as bench/catalog.py: moto `mock_aws` with tools.moto_patches, the stack created from
infra/mall-stack.yaml as tests/conftest.py deploy_stack does (stage "test"), the demo mall seeded by
tools.local_stack.seed_demo, the app through `chalice.test.Client(app, stage_name="test")` and
PAYMENT_GATEWAY=simulated.

Counting: DynamoDB calls with bench.catalog.CallCounter (one hook on botocore's `_make_api_call`: logical
API calls, exact). Stripe calls by wrapping SimulatedGateway's Stripe methods (create, cancel, retrieve
PaymentIntent); a nested call (an idempotent create that retrieves) counts once, as one Stripe request
would. The simulator keeps its PaymentIntents in the mall table: the DynamoDB calls it makes *inside* a
gateway method stand for Stripe's own storage, so they are not counted as the request's calls; they are
shown apart ("sim ddb").

Budget (the issue): add-to-cart <= 3 DynamoDB calls; checkout = 1 transaction + at most 3 other DynamoDB
calls + 1 Stripe call. Other operations have no budget and are shown for reference.

Capacity: PynamoDB does not send ReturnConsumedCapacity (and moto does not model it), so capacity units
are *estimated* from item sizes with DynamoDB's rules: a transactional write is 2 WCU per started KB of
the larger of the item before and after, a standard write 1 WCU per KB, every GSI the item is (or was) in
one more standard write of its projection (ALL here: ~ the item); a strongly consistent read is 1 RCU per
started 4 KB per item (BatchGetItem rounds per item, a transaction's condition reads are included).

Latencies are moto + app CPU on this machine: for comparing operations and catching regressions, not a
prediction of DynamoDB latency. Writes every row to bench/results/checkout.json.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.catalog import Call, CallCounter, _item_size, _percentile, bench_env, render

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "mall-stack.yaml"
RESULTS = Path(__file__).resolve().parent / "results" / "checkout.json"
STAGE = "test"  # the stage of .chalice/config.json the Client runs the app in, and of the stack
REPEATS = 30
OPERATIONS = ("GetItem", "BatchGetItem", "TransactWriteItems", "UpdateItem", "PutItem", "Query")
GATEWAY_METHODS = (
    "create_payment_intent",
    "cancel_payment_intent",
    "retrieve_payment_intent",
    "create_refund",
)
GSI_KEYS = ("gsi1pk", "gsi2pk", "gsi3pk")

# The budgets. Kinds: "add" (add to cart), "checkout"; anything else has no budget.
ADD_BUDGET = 3
CHECKOUT_OTHER_BUDGET = 3
CHECKOUT_TX_BUDGET = 1
CHECKOUT_STRIPE_BUDGET = 1


def checkout_env() -> dict[str, str]:
    """bench/catalog's environment on the "test" stage, with the simulated gateway. Set before botocore
    or chalicelib are imported (MallItem reads TABLE_NAME at import, app.py reads PAYMENT_GATEWAY)."""
    return {
        **bench_env(),
        "STAGE": STAGE,
        "TABLE_NAME": f"digital-mall-{STAGE}",
        "IMAGE_BUCKET": f"digital-mall-{STAGE}-images-123456789012",
        "PAYMENT_GATEWAY": "simulated",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench_not_a_real_secret",
        "CHECKOUT_HOLD_MINUTES": "30",
    }


def _configure_env() -> None:
    os.environ.update(checkout_env())
    for var in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        os.environ.pop(var, None)
    os.environ.pop("MALL_WEBHOOK_URL", None)  # the simulator would POST webhooks over HTTP


# --- counting ---------------------------------------------------------------------------------------


@dataclass
class CheckoutCounter(CallCounter):
    """bench.catalog.CallCounter that also counts Stripe calls and sets the simulator's own DynamoDB calls
    apart, and keeps the parameters of transactions and writes for the capacity estimate."""

    gateway_calls: list[str] = field(default_factory=list)
    simulator_calls: list[Call] = field(default_factory=list)
    kept: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # params, for the estimate
    _gateway_depth: int = 0

    def _record(self, client: Any, original: Any, operation: str, params: dict[str, Any], *rest: Any) -> None:
        super()._record(client, original, operation, params, *rest)
        if self._gateway_depth:
            self.simulator_calls.append(self.calls.pop())
        elif operation in ("TransactWriteItems", "UpdateItem", "PutItem", "DeleteItem", "BatchGetItem"):
            self.kept.append((operation, params))

    def reset_all(self) -> tuple[list[Call], list[str], list[Call], list[tuple[str, dict[str, Any]]]]:
        calls = self.reset()
        gateway, self.gateway_calls = self.gateway_calls, []
        simulated, self.simulator_calls = self.simulator_calls, []
        kept, self.kept = self.kept, []
        return calls, gateway, simulated, kept

    @contextmanager
    def gateway_wrapped(self) -> Iterator[None]:
        from chalicelib.payment.simulated_gateway import SimulatedGateway

        originals = {name: getattr(SimulatedGateway, name) for name in GATEWAY_METHODS}

        def wrap(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(method)
            def counted(*args: Any, **kwargs: Any) -> Any:
                if self._gateway_depth == 0:
                    self.gateway_calls.append(name)
                self._gateway_depth += 1
                try:
                    return method(*args, **kwargs)
                finally:
                    self._gateway_depth -= 1

            return counted

        for name, method in originals.items():
            setattr(SimulatedGateway, name, wrap(name, method))
        try:
            yield
        finally:
            for name, method in originals.items():
                setattr(SimulatedGateway, name, method)

    @contextmanager
    def suspended(self) -> Iterator[None]:
        self._suspended = True
        try:
            yield
        finally:
            self._suspended = False


# --- capacity estimate ------------------------------------------------------------------------------


class Sizer:
    """Reads items uncounted (the counter is suspended) to size them before and after a request."""

    def __init__(self, counter: CheckoutCounter, client: Any, table: str) -> None:
        self._counter = counter
        self._client = client
        self._table = table

    def item(self, key: dict[str, Any]) -> dict[str, Any] | None:
        with self._counter.suspended():
            response = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True)
        return response.get("Item")


def _key_of(op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type == "Put":
        return {"pk": op["Item"]["pk"], "sk": op["Item"]["sk"]}
    return dict(op["Key"])


def _kb(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def _gsis(*items: dict[str, Any] | None) -> int:
    return len({key for item in items if item for key in GSI_KEYS if key in item})


def transaction_capacity(
    params: dict[str, Any], before: dict[str, dict[str, Any] | None], sizer: Sizer
) -> dict[str, Any]:
    """Estimated WCU of one TransactWriteItems from item sizes before and after it (see module doc)."""
    table_wcu = 0
    gsi_wcu = 0
    detail = []
    for entry in params["TransactItems"]:
        (op_type, op), *_ = entry.items()
        key = _key_of(op_type, op)
        marker = json.dumps(key, sort_keys=True)
        old, new = before.get(marker), sizer.item(key)
        size = max(_item_size(old) if old else 0, _item_size(new) if new else 0)
        wcu = 2 * _kb(size)
        gsis = _gsis(old, new)
        table_wcu += wcu
        gsi_wcu += gsis * _kb(size)
        detail.append({"op": op_type, "kind": (new or old or {}).get("kind", {}).get("S"), "bytes": size})
    return {
        "items": len(params["TransactItems"]),
        "table_wcu_est": table_wcu,
        "gsi_wcu_est": gsi_wcu,
        "items_sized": detail,
    }


# --- the requests -----------------------------------------------------------------------------------


@dataclass
class Op:
    name: str  # shown
    kind: str  # "add", "checkout" or "" (no budget)
    method: str
    path: Callable[[dict[str, Any]], str]  # state -> path
    body: Callable[[dict[str, Any], int], Any] | None = None
    headers: Callable[[dict[str, Any]], dict[str, str]] | None = None
    setup: Callable[[int], dict[str, Any]] | None = None  # request number -> state (uncounted)
    expect: int = 200


@dataclass
class Sample:
    status: int
    ms: float
    ddb_ms: float
    calls: list[Call]
    gateway: list[str]
    simulator: list[Call]
    capacity: dict[str, Any] | None = None


def run(repeats: int = REPEATS) -> dict[str, Any]:
    _configure_env()
    from chalice.test import Client
    from moto import mock_aws

    from tools import moto_patches

    moto_patches.install()
    with mock_aws():
        import boto3

        from bench.catalog import quiet_moto_cloudformation
        from tools.local_stack import StackInfo, seed_demo

        with quiet_moto_cloudformation():
            outputs = _deploy_stack(boto3)
        info = StackInfo("in-process", "mock_aws", outputs["TableName"], outputs["ImageBucketName"])
        seed_demo(info)

        from app import app

        counter = CheckoutCounter()
        sizer = Sizer(counter, boto3.client("dynamodb"), outputs["TableName"])
        with (
            counter.installed(),
            counter.gateway_wrapped(),
            Client(app, stage_name=STAGE, project_dir=str(ROOT)) as client,
        ):

            def call(
                method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
            ) -> tuple[int, Any]:
                sent = {"Content-Type": "application/json", **(headers or {})}
                payload = json.dumps(body).encode() if body is not None else b""
                response = client.http.request(method, path, headers=sent, body=payload)
                text = response.body.decode() if response.body else ""
                return response.status_code, json.loads(text) if text else None

            world = _world(call, info)
            ops = _operations(call, world)
            counter.reset_all()
            rows = [_measure(op, call, counter, sizer, repeats) for op in ops]
    labels = {world["delivery_shop"]: "{shop_id}", **{world[v]: "{variant_id}" for v in ("a", "b", "d")}}
    for row in rows:
        for value, label in labels.items():
            row["request"] = row["request"].replace(value, label)
    # The demo retailer's key is a credential (if only a local one): never written to the results.
    shown = {k: v for k, v in world.items() if isinstance(v, (str, int)) and k != "retailer_key"}
    return {"world": shown, "rows": rows}


def _deploy_stack(boto3: Any) -> dict[str, str]:
    """tests/conftest.py deploy_stack."""
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(
        StackName=f"digital-mall-{STAGE}",
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": STAGE}],
    )
    stack = cloudformation.describe_stacks(StackName=f"digital-mall-{STAGE}")["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack ended {stack['StackStatus']}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _world(call: Callable[..., tuple[int, Any]], info: Any) -> dict[str, Any]:
    """Products with plenty of stock in two shops: the demo retailer's bakery (pickup, via its API key)
    and a demo shop that delivers (created with the service function, as seed_demo does)."""
    from chalicelib.auth.keys import Role
    from chalicelib.auth.service import Principal
    from chalicelib.catalog.schemas import ProductIn
    from chalicelib.catalog.service import create_product
    from chalicelib.core.validation import convert

    status, page = call("GET", "/shops?limit=100")
    assert status == 200, page
    delivering = next(
        s
        for s in page["items"]
        if s["delivery"]["enabled"] and s["delivery"]["fee_cents"] and s["id"] != info.retailer_shop_id
    )
    status, bakery = call(
        "POST",
        "/retailer/products",
        {
            "name": "Bench sourdough",
            "category": "bakery",
            "vat_rate_bps": 600,
            "variants": [
                {"sku": "BENCH-A", "price_cents": 450, "stock": 100_000, "options": {"size": "400 g"}},
                {"sku": "BENCH-B", "price_cents": 720, "stock": 100_000, "options": {"size": "800 g"}},
                {"sku": "BENCH-SOLD-OUT", "price_cents": 300, "stock": 0, "options": {"size": "mini"}},
            ],
        },
        {"Authorization": f"Bearer {info.retailer_key}"},
    )
    assert status == 201, bakery
    other = create_product(
        Principal(Role.RETAILER, delivering["id"], True),
        convert(
            {
                "name": "Bench parcel",
                "category": delivering["categories"][0],
                "vat_rate_bps": 2100,
                "variants": [{"sku": "BENCH-D", "price_cents": 990, "stock": 100_000}],
            },
            ProductIn,
            strict=True,
        ),
    )
    location = delivering["location"]
    return {
        "pickup_shop": info.retailer_shop_id,
        "retailer_key": info.retailer_key,
        "delivery_shop": delivering["id"],
        "delivery_shop_name": delivering["name"],
        "a": bakery["variants"][0]["id"],
        "b": bakery["variants"][1]["id"],
        "sold_out": bakery["variants"][2]["id"],
        "d": other.variants[0].id,
        "delivery": {
            "method": "delivery",
            "address": {
                "street": "Benchstraat 1",
                "postal_code": "9000",
                "city": "Gent",
                "country": "BE",
                "lat": location["lat"] + 0.004,
                "lng": location["lng"],
            },
            "contact": {"name": "Bench Customer", "phone": "+32 9 123 45 67"},
        },
    }


def _operations(call: Callable[..., tuple[int, Any]], w: dict[str, Any]) -> list[Op]:
    def cart(*variants: str, delivery: bool = False) -> dict[str, Any]:
        status, created = call(
            "POST", "/carts", {"lines": [{"variant_id": v, "quantity": 1} for v in variants]}
        )
        assert status == 201, created
        state = {"cart": created["cart"]["id"], "token": created["cart_token"]}
        if delivery:
            status, body = call(
                "PUT",
                f"/carts/{state['cart']}/shops/{w['delivery_shop']}/fulfilment",
                w["delivery"],
                _token(state),
            )
            assert status == 200, body
        return state

    def checked_out(*variants: str, delivery: bool = False) -> dict[str, Any]:
        state = cart(*variants, delivery=delivery)
        state["key"] = f"bench-{state['cart']}"
        status, body = call("POST", _checkout_path(state), _email(state, 0), _checkout_headers(state))
        assert status == 201, body
        return state

    def paid(*variants: str) -> dict[str, Any]:
        state = cart(*variants)
        state["key"] = f"bench-refund-{state['cart']}"
        status, body = call("POST", _checkout_path(state), _email(state, 0), _checkout_headers(state))
        assert status == 201, body
        status, ack = call("POST", f"/dev/payments/{body['payment_intent_id']}/succeed")
        assert status == 200 and ack["outcome"] == "paid", ack
        return {"order": body["order_id"]}

    get_cart_state = cart(w["a"], w["d"], delivery=True)
    lines = lambda s: f"/carts/{s['cart']}/lines"  # noqa: E731
    return [
        Op("create cart (empty)", "", "POST", lambda s: "/carts", lambda s, i: {"lines": []}, expect=201),
        Op(
            "create cart (1 line)",
            "",
            "POST",
            lambda s: "/carts",
            lambda s, i: {"lines": [{"variant_id": w["a"], "quantity": 1}]},
            expect=201,
        ),
        Op(
            "add line (new shop)",
            "add",
            "POST",
            lines,
            lambda s, i: {"variant_id": w["d"], "quantity": 1},
            _token,
            setup=lambda i: cart(w["a"]),
        ),
        Op(
            "add line (same shop)",
            "add",
            "POST",
            lines,
            lambda s, i: {"variant_id": w["b"], "quantity": 1},
            _token,
            setup=lambda i: cart(w["a"]),
        ),
        Op(
            "add line (to empty cart)",
            "add",
            "POST",
            lines,
            lambda s, i: {"variant_id": w["a"], "quantity": 1},
            _token,
            setup=lambda i: cart(),
        ),
        Op(
            "add line (variant already in cart)",
            "add",
            "POST",
            lines,
            lambda s, i: {"variant_id": w["a"], "quantity": 2},
            _token,
            setup=lambda i: cart(w["a"]),
        ),
        Op(
            "set quantity",
            "",
            "PUT",
            lambda s: f"/carts/{s['cart']}/lines/{w['a']}",
            lambda s, i: {"quantity": 2 + i % 5},
            _token,
            setup=lambda i: cart(w["a"], w["d"]),
        ),
        Op(
            "remove line (last of its shop)",
            "",
            "DELETE",
            lambda s: f"/carts/{s['cart']}/lines/{w['d']}",
            None,
            _token,
            setup=lambda i: cart(w["a"], w["d"], delivery=True),
        ),
        Op(
            "set fulfilment (delivery)",
            "",
            "PUT",
            lambda s: f"/carts/{s['cart']}/shops/{w['delivery_shop']}/fulfilment",
            lambda s, i: w["delivery"],
            _token,
            setup=lambda i: cart(w["a"], w["d"]),
        ),
        Op(
            "get cart (2 shops)",
            "",
            "GET",
            lambda s: f"/carts/{s['cart']}",
            None,
            _token,
            setup=lambda i: get_cart_state,
        ),
        Op(
            "checkout (1 shop, pickup)",
            "checkout",
            "POST",
            _checkout_path,
            _email,
            _checkout_headers,
            setup=lambda i: {**cart(w["a"]), "key": f"bench-pickup-{i}"},
            expect=201,
        ),
        Op(
            "checkout (2 shops, delivery)",
            "checkout",
            "POST",
            _checkout_path,
            _email,
            _checkout_headers,
            setup=lambda i: {**cart(w["a"], w["d"], delivery=True), "key": f"bench-two-{i}"},
            expect=201,
        ),
        Op(
            "checkout replay (same key)",
            "",
            "POST",
            _checkout_path,
            lambda s, i: _email(s, 0),
            _checkout_headers,
            setup=lambda i: checked_out(w["a"], w["d"], delivery=True),
            expect=201,
        ),
        Op(
            "checkout sold out (409)",
            "",
            "POST",
            _checkout_path,
            _email,
            _checkout_headers,
            setup=lambda i: {**cart(w["sold_out"]), "key": f"bench-sold-out-{i}"},
            expect=409,
        ),
        Op(
            # A refund of everything before hand-over cancels the sub-order: the same transaction and
            # settling as a refund of lines, plus the status change (chalicelib/order/refunds.py).
            "refund (whole pickup sub-order, 2 lines, restock)",
            "",
            "POST",
            lambda s: f"/retailer/orders/{s.get('order', '{order_id}')}/refunds",
            lambda s, i: {"lines": None, "restock": True, "reason": "bench"},
            lambda s: {"Authorization": f"Bearer {w['retailer_key']}"},
            setup=lambda i: paid(w["a"], w["b"]),
            expect=201,
        ),
        Op(
            "lifecycle transition (paid -> preparing)",
            "",
            "POST",
            lambda s: f"/retailer/orders/{s.get('order', '{order_id}')}/status",
            lambda s, i: {"to": "preparing"},
            lambda s: {"Authorization": f"Bearer {w['retailer_key']}"},
            setup=lambda i: paid(w["a"]),
            expect=200,
        ),
    ]


def _token(state: dict[str, Any]) -> dict[str, str]:
    return {"X-Cart-Token": state["token"]}


def _checkout_path(state: dict[str, Any]) -> str:
    return f"/carts/{state['cart']}/checkout"


def _checkout_headers(state: dict[str, Any]) -> dict[str, str]:
    return {**_token(state), "Idempotency-Key": state["key"]}


def _email(state: dict[str, Any], i: int) -> dict[str, str]:
    return {"email": "bench@example.be"}


def _measure(
    op: Op, call: Callable[..., tuple[int, Any]], counter: CheckoutCounter, sizer: Sizer, repeats: int
) -> dict[str, Any]:
    samples: list[Sample] = []
    for i in range(repeats + 1):  # request 0 warms up: counted and checked, not timed
        state = op.setup(i) if op.setup else {}
        counter.reset_all()
        path = op.path(state)
        body = op.body(state, i) if op.body else None
        headers = op.headers(state) if op.headers else None
        before: dict[str, dict[str, Any] | None] = {}
        probe = op.kind == "checkout" and i == 1
        if probe:  # the items the transaction will touch, sized before it (uncounted reads)
            before = _items_before(state, sizer)
        started = time.perf_counter()
        status, response = call(op.method, path, body, headers)
        elapsed = (time.perf_counter() - started) * 1000
        calls, gateway, simulator, writes = counter.reset_all()
        if status != op.expect:
            raise AssertionError(f"{op.name}: {status} {response}")
        sample = Sample(status, elapsed, sum(c.ms for c in calls + simulator), calls, gateway, simulator)
        if probe:
            sample.capacity = _checkout_capacity(writes, before, sizer)
        samples.append(sample)
    return _row(op, samples[0], samples[1:])


def _items_before(state: dict[str, Any], sizer: Sizer) -> dict[str, dict[str, Any] | None]:
    """Cart and variant items as they are before the checkout (orders do not exist yet)."""
    from chalicelib.catalog.models import VariantItem
    from chalicelib.catalog.service import product_id_of

    item = sizer.item({"pk": {"S": f"CART#{state['cart']}"}, "sk": {"S": "CART"}})
    found: dict[str, dict[str, Any] | None] = {}
    if item:
        found[json.dumps({"pk": item["pk"], "sk": item["sk"]}, sort_keys=True)] = item
        for line in json.loads(item["lines"]["S"]):
            pk, sk = VariantItem.key_for(product_id_of(line["variant_id"]), line["variant_id"])
            key = {"pk": {"S": pk}, "sk": {"S": sk}}
            found[json.dumps(key, sort_keys=True)] = sizer.item(key)
    return found


def _checkout_capacity(
    writes: list[tuple[str, dict[str, Any]]], before: dict[str, dict[str, Any] | None], sizer: Sizer
) -> dict[str, Any]:
    estimate: dict[str, Any] = {}
    for operation, params in writes:
        if operation == "TransactWriteItems":
            estimate["transaction"] = transaction_capacity(params, before, sizer)
        elif operation == "UpdateItem":
            item = sizer.item(params["Key"])
            size = _item_size(item) if item else 0
            estimate["update_item"] = {
                "bytes": size,
                "table_wcu_est": _kb(size),
                "gsi_wcu_est": _gsis(item) * _kb(size) if _gsis(item) else 0,
            }
        elif operation == "BatchGetItem":
            rcu = 0
            for request in params["RequestItems"].values():
                for key in request["Keys"]:
                    item = sizer.item(key)
                    per_item = max(1, math.ceil((_item_size(item) if item else 0) / 4096))
                    rcu += per_item if request.get("ConsistentRead") else per_item / 2
            estimate["batch_get_rcu_est"] = rcu
    return estimate


def _ops_count(calls: list[Call]) -> dict[str, int]:
    counted = Counter(c.operation for c in calls)
    return {op: counted.get(op, 0) for op in OPERATIONS} | {
        op: n for op, n in counted.items() if op not in OPERATIONS
    }


def _row(op: Op, warmup: Sample, samples: list[Sample]) -> dict[str, Any]:
    everything = [warmup, *samples]
    totals = sorted({len(s.calls) for s in everything})
    tx_items = sorted({c.items for s in everything for c in s.calls if c.operation == "TransactWriteItems"})
    stripe = sorted({len(s.gateway) for s in everything})
    simulator = sorted({len(s.simulator) for s in everything})
    # The budget must hold on every request, not on average.
    verdict, budget = "-", "-"
    if op.kind == "add":
        budget = f"<= {ADD_BUDGET}"
        verdict = "PASS" if max(totals) <= ADD_BUDGET else "OVER"
    elif op.kind == "checkout":
        budget = f"{CHECKOUT_TX_BUDGET} tx + <= {CHECKOUT_OTHER_BUDGET}, {CHECKOUT_STRIPE_BUDGET} Stripe"
        ok = all(
            sum(c.operation == "TransactWriteItems" for c in s.calls) == CHECKOUT_TX_BUDGET
            and sum(c.operation != "TransactWriteItems" for c in s.calls) <= CHECKOUT_OTHER_BUDGET
            and len(s.gateway) <= CHECKOUT_STRIPE_BUDGET
            for s in everything
        )
        verdict = "PASS" if ok else "OVER"
    timings = [s.ms for s in samples]
    app = [s.ms - s.ddb_ms for s in samples]
    capacity = next((s.capacity for s in samples if s.capacity), None)
    return {
        "operation": op.name,
        "request": f"{op.method} {op.path({'cart': '{id}', 'token': '', 'key': ''})}",
        "status": op.expect,
        "ddb_calls": len(warmup.calls),
        "ddb_calls_min": totals[0],
        "ddb_calls_max": totals[-1],
        "by_operation": _ops_count(warmup.calls),
        "sequence": [c.operation for c in warmup.calls],
        "transaction_items": tx_items,
        "stripe_calls": stripe[-1],
        "stripe_methods": warmup.gateway,
        "simulator_ddb_calls": simulator[-1],
        "simulator_sequence": [c.operation for c in warmup.simulator],
        "budget": budget,
        "verdict": verdict,
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(_percentile(timings, 95), 2),
        "app_p50_ms": round(statistics.median(app), 2),
        "requests": len(samples),
        "capacity_estimate": capacity,
    }


def table(rows: list[dict[str, Any]]) -> str:
    headers = ["operation", "st", "ddb", *(_short(op) for op in OPERATIONS), "stripe", "sim ddb"]
    headers += ["budget", "verdict", "p50 ms", "p95 ms", "app p50"]
    lines = []
    for r in rows:
        calls = str(r["ddb_calls"])
        if r["ddb_calls_min"] != r["ddb_calls_max"]:
            calls += f" ({r['ddb_calls_min']}-{r['ddb_calls_max']})"
        by_op = r["by_operation"]
        tx = str(by_op["TransactWriteItems"])
        if r["transaction_items"]:
            tx += f" ({'/'.join(map(str, r['transaction_items']))} items)"
        lines.append(
            [
                r["operation"],
                str(r["status"]),
                calls,
                str(by_op["GetItem"]),
                str(by_op["BatchGetItem"]),
                tx,
                str(by_op["UpdateItem"]),
                str(by_op["PutItem"]),
                str(by_op["Query"]),
                str(r["stripe_calls"]),
                str(r["simulator_ddb_calls"]),
                r["budget"],
                r["verdict"],
                f"{r['p50_ms']:.1f}",
                f"{r['p95_ms']:.1f}",
                f"{r['app_p50_ms']:.1f}",
            ]
        )
    return render(headers, lines, right=set(range(1, 11)) | {13, 14, 15})


def _short(operation: str) -> str:
    return {"TransactWriteItems": "TxWrite", "BatchGetItem": "BatchGet"}.get(operation, operation)


def capacity_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in rows:
        estimate = r.get("capacity_estimate")
        if not estimate or "transaction" not in estimate:
            continue
        tx = estimate["transaction"]
        kinds = Counter(i["kind"] for i in tx["items_sized"])
        largest = max(i["bytes"] for i in tx["items_sized"])
        update = estimate.get("update_item") or {}
        lines.append(
            f"{r['operation']}: transaction of {tx['items']} items "
            f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}; largest {largest} B) "
            f"~ {tx['table_wcu_est']} WCU on the table (2 per KB, transactional) + ~{tx['gsi_wcu_est']} WCU "
            f"GSI writes; then UpdateItem order ~ {update.get('table_wcu_est', 0)} WCU + "
            f"{update.get('gsi_wcu_est', 0)} GSI; catalogue BatchGetItem "
            f"~ {estimate.get('batch_get_rcu_est')} RCU (consistent). ESTIMATES from item sizes."
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.checkout", description=__doc__)
    parser.add_argument("--repeats", type=int, default=REPEATS, help=f"requests per operation ({REPEATS})")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = run(args.repeats)
    rows = result["rows"]
    print(
        f"Cart and checkout: DynamoDB calls per request (in process, moto mock_aws, demo mall; "
        f"{args.repeats} requests each after one warm-up)"
    )
    print(
        "budget (issue): add to cart <= 3 DynamoDB calls; checkout = 1 transaction + <= 3 other calls "
        "+ 1 Stripe call"
    )
    print(table(rows))
    print(
        "ddb = the request's DynamoDB calls (the simulated gateway's own calls excluded, shown as 'sim ddb':"
        " with real Stripe they do not exist); stripe = PaymentIntent API calls; TxWrite (n items);"
        " app = request minus time in DynamoDB calls (moto)"
    )
    for line in capacity_lines(rows):
        print(f"capacity: {line}")
    over = [r["operation"] for r in rows if r["verdict"] == "OVER"]
    budgeted = [r for r in rows if r["verdict"] != "-"]
    print(
        f"summary: {len(budgeted) - len(over)}/{len(budgeted)} budgeted operations PASS"
        + (f"; OVER: {', '.join(over)}" if over else "")
        + f" ({time.perf_counter() - started:.0f} s)"
    )
    report = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "repeats": args.repeats,
        "notes": [
            "DynamoDB calls counted with bench.catalog.CallCounter (botocore _make_api_call: logical calls)",
            "simulator_ddb_calls: DynamoDB calls made inside SimulatedGateway (stand-in for Stripe), "
            "not counted in ddb_calls",
            "capacity_estimate: from item sizes (PynamoDB sends no ReturnConsumedCapacity), an estimate",
            "latencies: moto + app CPU in process, not DynamoDB latency",
        ],
        "world": result["world"],
        "rows": rows,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    shown = RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS
    print(f"rows: {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
