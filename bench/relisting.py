"""`python -m bench.relisting`: suspending a shop of 2,000 products, in process over moto.

One shop with N products (default 2,000; one variant each, listed, with their search entries), written
in batches (setup, uncounted). Then, through the API (`chalice.test.Client`): the operator suspends the
shop (timed, DynamoDB calls counted); the storefront is read at once (category list, search, a product):
none of the shop's products may show. Then the relist queue's messages go to the worker's handler as the
SQS event source would deliver them (one by one, continuations included) until the queue is empty (timed,
calls counted), and the listings themselves are checked clean.

Reported: time to answer the suspension, time until the shop's products are off the storefront (at the
answer: reads check the shop's status), time until the last product's listing is rewritten (worker runs),
worker calls per product, and the worker time extrapolated to DynamoDB at an assumed 10 ms a call
(product rewrites run `WORKERS` at a time; moto serialises them).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.catalog import TEMPLATE, CallCounter, _configure_env

RESULTS = Path(__file__).resolve().parent / "results" / "relisting.json"
DYNAMODB_MS = 10.0


def _seed(products: int) -> tuple[str, str]:
    """A demo shop (through the service) and its products (batch writes); returns (shop id, operator key)."""
    from chalicelib.auth.service import create_operator_key
    from chalicelib.catalog.listing import apply_listing, entry_keys_of, product_words, shop_terms_of
    from chalicelib.catalog.models import ProductItem, SearchEntry, VariantItem
    from chalicelib.core.clock import iso, now
    from chalicelib.core.validation import convert
    from chalicelib.shop.models import ShopItem
    from chalicelib.shop.schemas import ShopProfile
    from chalicelib.shop.service import open_shop
    from tools.demo_data import demo_shops

    body = dict(demo_shops()[0])
    body.pop("key")
    shop_id = open_shop(convert(body, ShopProfile, strict=True)).shop.id
    shop = ShopItem.get(*ShopItem.key_for(shop_id))
    terms, stamp = shop_terms_of(shop), iso(now())
    with ProductItem.batch_write() as batch:
        for n in range(products):
            product_id = f"prod_bench{n:010d}"
            product = ProductItem(
                *ProductItem.key_for(product_id),
                product_id=product_id,
                shop_id=shop_id,
                shop_name=shop.profile.name,
                shop_terms=terms,
                name=f"Sourdough loaf {n}",
                category="bakery",
                vat_rate_bps=600,
                active=True,
                price_from=450,
                price_to=450,
                created_at=stamp,
                updated_at=stamp,
            )
            variant = VariantItem(
                *VariantItem.key_for(product_id, f"{product_id}-v"),
                variant_id=f"{product_id}-v",
                product_id=product_id,
                shop_id=shop_id,
                sku=f"SD-{n}",
                options={"size": "800 g"},
                price_cents=450,
                stock=10,
                active=True,
                updated_at=stamp,
            )
            product.words = product_words(product, [variant])
            apply_listing(product, True)
            batch.save(product)
            batch.save(variant)
            for pk, sk in entry_keys_of(product):  # what listing.stage_listing writes
                batch.save(
                    SearchEntry(
                        pk,
                        sk,
                        product_id=product_id,
                        shop_id=shop_id,
                        shop_name=product.shop_name,
                        name=product.name,
                        category=product.category,
                        vat_rate_bps=600,
                        price_from=450,
                        price_to=450,
                        words=list(product.words),
                    )
                )
    return shop_id, create_operator_key()


def run(products: int) -> dict[str, Any]:
    _configure_env()
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from tools import moto_cfn, moto_patches

    moto_patches.install(indexed_queries=True)
    with mock_aws():
        cloudformation = boto3.client("cloudformation")
        with moto_cfn.quiet_unsupported_resources():
            cloudformation.create_stack(
                StackName="digital-mall-bench",
                TemplateBody=TEMPLATE.read_text(),
                Parameters=[{"ParameterKey": "Stage", "ParameterValue": "bench"}],
            )
        from app import app, relist_shops
        from chalicelib.catalog.models import ProductItem
        from chalicelib.catalog.relisting import WORKERS

        started = time.perf_counter()
        shop_id, operator_key = _seed(products)
        seeded_s = time.perf_counter() - started
        sqs = boto3.client("sqs", region_name="eu-west-1")
        # chalice's test Client serves each request with the "test" stage's environment
        # (.chalice/config.json), so the API sends to that stage's queue name: stand it up here.
        url = sqs.create_queue(QueueName="digital-mall-test-relist", Attributes={"VisibilityTimeout": "360"})[
            "QueueUrl"
        ]
        auth = {"Authorization": f"Bearer {operator_key}"}
        counter = CallCounter()
        with Client(app, stage_name="test") as client, counter.installed():
            started = time.perf_counter()
            answer = client.http.post(f"/operator/shops/{shop_id}/suspend", headers=auth)
            answer_s = time.perf_counter() - started
            assert answer.status_code == 200, answer.body
            request_calls = Counter(c.operation for c in counter.reset())
            shown = _shown(client, shop_id)
            assert shown == 0, f"{shown} products of the suspended shop still shown"
            counter.reset()

            worker_started = time.perf_counter()
            runs = 0
            while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", []):
                for message in messages:
                    relist_shops(_event(message["Body"]), None)
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    runs += 1
            worker_s = time.perf_counter() - worker_started
            last_off_s = time.perf_counter() - started
            worker_calls = Counter(c.operation for c in counter.reset())
        still_listed = sum(1 for p in ProductItem.gsi2.query(f"LISTED#SHOP#{shop_id}"))
        assert still_listed == 0, still_listed
    total_worker_calls = sum(worker_calls.values())
    return {
        "products": products,
        "seed_s": round(seeded_s, 1),
        "suspend_answer_ms": round(answer_s * 1000, 1),
        "suspend_request_calls": dict(request_calls),
        # Read right after the answer, before any relisting: storefront reads check the shops' status.
        "shown_on_storefront_after_answer": shown,
        "worker_runs": runs,
        "worker_s_moto": round(worker_s, 1),
        "last_listing_rewritten_after_s_moto": round(last_off_s, 1),
        "worker_calls": dict(worker_calls),
        "worker_calls_per_product": round(total_worker_calls / products, 2),
        # Product rewrites run WORKERS at a time (moto serialises them; DynamoDB does not).
        "worker_s_estimated_dynamodb": round(
            (
                worker_calls["TransactWriteItems"] / WORKERS
                + total_worker_calls
                - worker_calls["TransactWriteItems"]
            )
            * DYNAMODB_MS
            / 1000,
            1,
        ),
    }


def _shown(client: Any, shop_id: str) -> int:
    """Products of the shop a storefront would show right now: the category list, a search, one product."""
    shown = 0
    for path in ("/products?category=bakery&limit=100", "/products?q=sourdough&limit=100"):
        page = json.loads(client.http.get(path).body)
        shown += sum(1 for item in page["items"] if item["shop_id"] == shop_id)
    shown += client.http.get("/products/prod_bench0000000000").status_code == 200
    return shown


def _event(body: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": "bench",
                "receiptHandle": "bench",
                "body": body,
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:digital-mall-bench-relist",
                "awsRegion": "eu-west-1",
            }
        ]
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.relisting", description=__doc__)
    parser.add_argument("--products", type=int, default=2_000)
    args = parser.parse_args(argv)
    result = run(args.products)
    print("Suspending a shop (moto in process)")
    for name, value in result.items():
        print(f"  {name:40} {value}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
