"""Refunds racing each other: parallel requests for the rest of a sub-order, each settled at once by the
provider; whatever the interleaving, the sub-order ends ``refunded`` when every cent went back."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from support import bakery_and_butcher, collect, place, vid

BAKERY, BUTCHER = 0, 1


@pytest.fixture
def mall(api, open_shop) -> dict[str, Any]:
    return bakery_and_butcher(api, open_shop, bread=(500, 90), cake=(500, 90))


def refund(api: Any, key: str, order_id: str, lines: Any) -> tuple[int, Any]:
    return api.call("POST", f"/retailer/orders/{order_id}/refunds", {"lines": lines}, key=key)


@pytest.mark.parametrize("round_", range(8))
def test_parallel_refunds_of_the_rest_leave_the_sub_order_refunded(api, mall, round_):
    placed = place(api, mall, bread=2, cake=1, steak=0)
    order_id, key = placed["order_id"], mall["key"]
    collect(api, mall, placed)
    assert refund(api, key, order_id, [{"variant_id": vid(mall["bread"]), "quantity": 1}])[0] == 201
    rest = [
        [{"variant_id": vid(mall["bread"]), "quantity": 1}],
        [{"variant_id": vid(mall["cake"]), "quantity": 1}],
    ]
    answers: list[tuple[int, Any]] = []
    start = threading.Barrier(len(rest))

    def one(lines: Any, delay: float) -> None:
        start.wait()
        time.sleep(delay)  # staggered: the second request lands while the first is being settled
        for _ in range(5):  # what a client does with a 409 "changed meanwhile": read again, send again
            status, body = refund(api, key, order_id, lines)
            if status != 409:
                break
            assert body["error"]["code"] == "sub_order_changed_concurrently", body
        answers.append((status, body))

    threads = [threading.Thread(target=one, args=(lines, 0.004 * round_ * n)) for n, lines in enumerate(rest)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [201, 201], answers
    status, sub = api.call("GET", f"/retailer/orders/{order_id}", key=key)
    assert status == 200, sub
    status, listed = api.call("GET", f"/retailer/orders/{order_id}/refunds", key=key)
    assert {r["status"] for r in listed["items"]} == {"succeeded"}, listed
    assert sum(r["amount_cents"] for r in listed["items"]) == 1500
    assert sub["status"] == "refunded", sub["status"]
