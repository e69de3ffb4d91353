"""Shop-wide changes off the request: a suspension, reactivation or rename is recorded on the shop and
answered at once; the relist worker (chalicelib/catalog/relisting.py, fed by the relist queue) rewrites the
products; storefront reads never show a suspended shop's products in between; redelivered, stale and
interrupted messages do nothing harmful. And a suspension racing a key rotation never fails."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from relist_support import pending_messages, relist_queue, run_relisting, sqs_event
from support import make_product, vid

BAKERY, CHOCOLATE = 0, 5


def product_item(product_id: str) -> Any:
    from chalicelib.catalog.models import ProductItem

    return ProductItem.get(*ProductItem.key_for(product_id), consistent_read=True)


def search_entries(product_id: str, word: str) -> list[Any]:
    from chalicelib.catalog.models import SearchEntry

    pk, _ = SearchEntry.key_for(word, "")
    return [
        e for e in SearchEntry.query(pk, SearchEntry.sk.startswith(f"{word}#")) if e.product_id == product_id
    ]


def storefront_ids(api: Any, shop_id: str, product_ids: list[str]) -> set[str]:
    """Every product of these the storefront shows, by any read."""
    seen: set[str] = set()
    for path in ("/products?category=bakery", "/products?q=loaf", f"/shops/{shop_id}/products"):
        status, page = api.call("GET", path)
        if status == 200:
            seen |= {item["id"] for item in page["items"]}
    seen |= {pid for pid in product_ids if api.call("GET", f"/products/{pid}")[0] == 200}
    return seen & set(product_ids)


def deliver(body: str) -> None:
    from app import relist_shops

    relist_shops(sqs_event(body), None)


@pytest.fixture
def bakery(api, open_shop):
    shop, key = open_shop(BAKERY)
    products = [make_product(api, key, f"Sourdough loaf {n}", [(450, 5)], sku=f"SD{n}") for n in range(3)]
    return shop, key, [p["id"] for p in products], products


def test_a_suspension_answers_without_touching_products_and_the_worker_takes_them_off(
    api, bakery, operator_key
):
    shop, _, ids, _ = bakery
    versions = {pid: int(product_item(pid).version) for pid in ids}

    status, body = api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)

    assert status == 200 and body["status"] == "suspended"
    # The request wrote the shop and its key only: every product is as it was, one message is queued.
    assert {pid: int(product_item(pid).version) for pid in ids} == versions
    assert all(product_item(pid).listed for pid in ids)
    (message,) = pending_messages()
    assert json.loads(message["Body"]) == {"shop_id": shop["id"], "listing_version": 1}
    # In between, no storefront read shows them.
    assert storefront_ids(api, shop["id"], ids) == set()

    assert run_relisting() == 1

    for pid in ids:
        item = product_item(pid)
        assert not item.listed and item.gsi2pk is None and item.gsi3pk is None
        assert not item.shop_active and item.shop_listing_version == 1
        assert search_entries(pid, "sourdough") == []
    assert storefront_ids(api, shop["id"], ids) == set()

    assert api.call("POST", f"/operator/shops/{shop['id']}/reactivate", key=operator_key)[0] == 200
    assert storefront_ids(api, shop["id"], ids) == set()  # listed again only by the worker
    assert run_relisting() == 1
    assert storefront_ids(api, shop["id"], ids) == set(ids)
    assert all(len(search_entries(pid, "sourdough")) == 1 for pid in ids)


def test_a_cart_refuses_a_suspended_shops_products_before_the_worker_ran(api, bakery, operator_key):
    shop, _, _, products = bakery
    assert api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)[0] == 200

    status, body = api.call("POST", "/carts", {"lines": [{"variant_id": vid(products[0]), "quantity": 1}]})

    assert pending_messages(), "the worker has not run"
    assert status in (404, 409, 422), body
    assert body["error"]["code"] == "variant_unavailable"


def test_a_redelivered_message_changes_nothing(api, bakery, operator_key):
    shop, _, ids, _ = bakery
    api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)
    (message,) = pending_messages()
    assert run_relisting() == 1
    after = {pid: product_item(pid).attribute_values for pid in ids}

    deliver(message["Body"])
    deliver(message["Body"])

    assert {pid: product_item(pid).attribute_values for pid in ids} == after


def test_a_stale_message_is_harmless_in_either_order(api, bakery, operator_key):
    shop, _, ids, _ = bakery
    api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)
    api.call("POST", f"/operator/shops/{shop['id']}/reactivate", key=operator_key)
    api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)
    bodies = [m["Body"] for m in pending_messages()]
    assert sorted(json.loads(b)["listing_version"] for b in bodies) == [1, 2, 3]

    # The newest first, then the two stale ones: they find every product done and leave it so.
    for body in sorted(bodies, key=lambda b: -json.loads(b)["listing_version"]):
        deliver(body)

    assert all(not product_item(pid).listed and product_item(pid).shop_listing_version == 3 for pid in ids)
    api.call("POST", f"/operator/shops/{shop['id']}/reactivate", key=operator_key)
    run_relisting()
    # The oldest message again, long after: the products stay as the shop is now (active, listed).
    deliver(bodies[0])
    assert storefront_ids(api, shop["id"], ids) == set(ids)


def test_a_run_that_crashes_midway_resumes_where_products_still_lag(api, bakery, operator_key, monkeypatch):
    from chalicelib.catalog import relisting

    shop, _, ids, _ = bakery
    api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)
    (message,) = pending_messages()
    real = relisting._relist_product
    done: list[str] = []

    def crash_after_one(summary: Any, *args: Any) -> str:
        if done:
            raise RuntimeError("Lambda timed out")
        done.append(summary.product_id)
        return real(summary, *args)

    monkeypatch.setattr(relisting, "_relist_product", crash_after_one)
    with pytest.raises(RuntimeError):
        relisting.handle_messages([message["Body"]], workers=1)
    assert [pid for pid in ids if not product_item(pid).listed] == done
    monkeypatch.setattr(relisting, "_relist_product", real)

    (run,) = relisting.handle_messages([message["Body"]])  # SQS delivers it again

    assert (run.rewritten, run.skipped, run.finished) == (2, 1, True)
    assert not any(product_item(pid).listed for pid in ids)


def test_a_run_out_of_time_queues_its_continuation(api, bakery, operator_key):
    from chalicelib.catalog import relisting

    shop, _, ids, _ = bakery
    api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)
    sqs, url = relist_queue()
    runs = []
    for _ in range(10):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for message in messages:
            # No time at all: each run does one product, then queues its continuation.
            runs += relisting.handle_messages([message["Body"]], budget_seconds=0, workers=1)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    assert [(r.rewritten, r.finished) for r in runs] == [(1, False), (1, False), (1, True)]
    assert not any(product_item(pid).listed for pid in ids)


def test_only_changes_the_products_carry_are_relisted(api, bakery):
    _, key, ids, _ = bakery

    assert api.call("PATCH", "/retailer/shop", {"description": "Sourdough since 1987"}, key=key)[0] == 200
    assert pending_messages() == []

    # Closed dates are carried: carts compute pickup slots and "ready by" from the product's copy.
    assert api.call("PATCH", "/retailer/shop", {"closed_dates": ["2030-12-25"]}, key=key)[0] == 200
    assert run_relisting() == 1
    assert all(product_item(pid).shop_terms["closed_dates"] == ["2030-12-25"] for pid in ids)


def test_a_product_edit_keeps_the_listing_the_worker_decided(api, bakery, operator_key):
    """An edit in flight when the shop was suspended cannot list a product again: it keeps the shop status
    the worker stored on the product, not the one its key had when it was authenticated."""
    from chalicelib.auth.keys import Role
    from chalicelib.auth.service import Principal
    from chalicelib.catalog.schemas import ProductUpdate
    from chalicelib.catalog.service import update_product

    shop, _, ids, _ = bakery
    api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)
    run_relisting()
    authenticated_before = Principal(Role.RETAILER, shop["id"], shop_active=True)

    update_product(authenticated_before, ids[0], ProductUpdate(name="Sourdough loaf XL"))

    assert not product_item(ids[0]).listed
    assert storefront_ids(api, shop["id"], ids) == set()


# --- suspension racing a key rotation (issue 11, point 9) ---------------------------------------------


def test_a_rotation_between_reading_and_writing_a_suspension_is_retried(
    api, open_shop, operator_key, monkeypatch
):
    from chalicelib.shop import service

    shop, old_key = open_shop(BAKERY)
    real_load = service._load
    rotated: list[str] = []

    def load_then_rotate(shop_id: str, consistent: bool = False) -> Any:
        item = real_load(shop_id, consistent)
        if not rotated:  # the operator's other tab rotates the key right after the suspension read
            rotated.append("")
            rotated[0] = service.rotate_key(shop_id).api_key
        return item

    monkeypatch.setattr(service, "_load", load_then_rotate)
    status, body = api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)

    assert status == 200, body
    assert body["status"] == "suspended"
    new_key = rotated[0]
    assert api.call("GET", "/retailer/shop", key=old_key)[0] == 401
    status, body = api.call("PATCH", "/retailer/shop", {"description": "sneaky"}, key=new_key)
    assert status == 403 and body["error"]["code"] == "shop_suspended"


def test_suspensions_and_rotations_in_parallel_leave_one_key_that_follows_the_shop(
    api, open_shop, operator_key
):
    from chalicelib.auth.models import ApiKeyItem
    from chalicelib.shop.models import ShopItem

    shop, _ = open_shop(BAKERY)
    statuses: list[int] = []
    lock = threading.Lock()

    def call(path: str) -> None:
        status, _ = api.call("POST", f"/operator/shops/{shop['id']}/{path}", key=operator_key)
        with lock:
            statuses.append(status)

    for round_ in range(4):
        action = "suspend" if round_ % 2 == 0 else "reactivate"
        threads = [threading.Thread(target=call, args=(p,)) for p in (action, "api-key", "api-key")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        item = ShopItem.get(*ShopItem.key_for(shop["id"]), consistent_read=True)
        key = ApiKeyItem.get(*ApiKeyItem.key_for(item.key_digest), consistent_read=True)
        assert key.shop_active == item.active == (action == "reactivate")
    assert 500 not in statuses
    assert set(statuses) <= {200, 409}


def test_a_product_created_while_its_shop_is_suspended_is_refused(api, open_shop, operator_key, monkeypatch):
    """The shop read by the creation is checked again in its transaction: the relist worker may have passed
    already, so a product carrying the old status must not be written."""
    from chalicelib.shop import service as shops
    from chalicelib.shop.models import ShopItem

    shop, key = open_shop(BAKERY)
    real_get = ShopItem.get
    suspended: list[bool] = []

    def get_then_suspend(*args: Any, **kwargs: Any) -> Any:
        item = real_get(*args, **kwargs)
        if not suspended:  # the operator suspends the shop right after the creation read it
            suspended.append(True)
            shops.set_shop_status(shop["id"], active=False)
        return item

    monkeypatch.setattr(ShopItem, "get", get_then_suspend)
    body = {
        "name": "Rye",
        "category": "bakery",
        "vat_rate_bps": 600,
        "variants": [{"sku": "R", "price_cents": 9}],
    }
    status, answer = api.call("POST", "/retailer/products", body, key=key)
    monkeypatch.setattr(ShopItem, "get", real_get)

    assert status == 409, answer
    assert answer["error"]["code"] == "product_changed_concurrently"
    assert api.call("GET", "/retailer/products", key=key)[1]["items"] == []


def test_an_unreachable_queue_does_not_fail_a_recorded_suspension(api, bakery, operator_key, monkeypatch):
    from chalicelib.catalog import relisting

    shop, _, ids, _ = bakery

    def unreachable(message: dict[str, Any]) -> None:
        raise ConnectionError("SQS unreachable")

    monkeypatch.setattr(relisting, "_sqs_send", unreachable)
    status, body = api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)

    assert status == 200 and body["status"] == "suspended"
    assert storefront_ids(api, shop["id"], ids) == set()
    monkeypatch.undo()
    # Repeating the call queues the relisting again, and the worker finishes the job.
    assert api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)[0] == 200
    assert run_relisting() == 1
    assert not any(product_item(pid).listed for pid in ids)
