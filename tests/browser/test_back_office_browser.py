"""The retailers' back office in headless Chromium at a phone's width (360 px), against the local stack as
`make run` serves it (pages on their own origin, the API on another).

The retailer journey: a wrong key is refused in words; the demo retailer signs in, finds a paid order placed
through the API, prepares it, marks it ready, enters a wrong pickup code (refused in words, attempts left),
then the right one (collected); creates a product that the storefront API's search then finds; takes a
photo (a generated JPEG on the camera input) and sees it once processed; a text file renamed .jpg is refused
with the reason in words; a key that stops working signs the person out with a message.
"""

from __future__ import annotations

import io
import random
import re
import string
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

if TYPE_CHECKING:
    from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 20_000  # a loaded 2-core machine: every wait is Playwright's auto-waiting, never a sleep
PROCESSING_TIMEOUT_MS = 120_000  # an upload goes S3 -> queue -> the local stack's image thread


def unique_word() -> str:
    return "bo" + "".join(random.choices(string.ascii_lowercase, k=10))


def phone_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 120, 40)).save(out, "JPEG", quality=85)
    return out.getvalue()


def paid_order(api: Api, shop_id: str) -> tuple[str, str]:
    """A customer's paid pickup order at `shop_id`, placed over the API; returns (order id, pickup code)."""
    products = api.get(f"/shops/{shop_id}/products", params={"limit": 50})["items"]
    variant = next(
        v for p in products[::-1] for v in api.get(f"/products/{p['id']}")["variants"] if v["stock"] > 2
    )
    cart = api.ok("POST", "/carts", 201, body={"lines": [{"variant_id": variant["id"], "quantity": 1}]})
    cart_id, token = cart["cart"]["id"], {"X-Cart-Token": cart["cart_token"]}
    # The demo bakery offers pickup without slots, the default where offered: nothing to choose.
    placed = api.ok(
        "POST",
        f"/carts/{cart_id}/checkout",
        201,
        body={"email": "counter@example.be"},
        headers={**token, "Idempotency-Key": f"browser-bo-{cart_id}"},
    )
    assert api.ok("POST", f"/dev/payments/{placed['payment_intent_id']}/succeed")["outcome"] == "paid"
    order = api.get(f"/orders/{placed['order_id']}", headers={"X-Order-Token": placed["order_token"]})
    return placed["order_id"], order["shops"][0]["fulfilment"]["pickup"]["code"]


@pytest.fixture
def phone(
    browser: Browser, info: dict[str, Any], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A 360 px wide page in English on the back office; a screenshot is kept if the test fails."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    failures_before = request.session.testsfailed
    page.goto(info["back_office_url"])
    yield page
    # The call's report is logged before teardown, so a failure of this test has been counted by now.
    if request.session.testsfailed > failures_before:
        shot = tmp_path / "back-office-failure.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failing page: {shot}")
    context.close()
    assert not errors, f"uncaught errors on the page: {errors}"


def sign_in(page: Page, key: str) -> None:
    page.get_by_test_id("sign-in-key").fill(key)
    page.get_by_test_id("sign-in-submit").click()


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide at a 360 px viewport"


def test_retailer_hands_over_an_order_with_the_pickup_code(
    phone: Page, api: Api, info: dict[str, Any]
) -> None:
    order_id, code = paid_order(api, info["retailer_shop_id"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    sign_in(phone, "mk_live_not_a_key")
    expect(phone.get_by_test_id("sign-in-error")).to_contain_text("not valid", timeout=TIMEOUT_MS)
    expect(phone.get_by_test_id("sign-out")).to_be_hidden()
    sign_in(phone, info["retailer_key"])

    card = phone.get_by_test_id("orders-toPrepare").locator(f"[data-order-id='{order_id}']")
    expect(card).to_be_visible(timeout=TIMEOUT_MS)
    # French and Dutch for the shop owner, from the switch; the page keeps its place.
    phone.get_by_test_id("lang").select_option("fr")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Commandes")
    expect(card.get_by_test_id("order-status")).to_have_text("Nouvelle", timeout=TIMEOUT_MS)
    phone.get_by_test_id("lang").select_option("nl")
    expect(phone.get_by_role("heading", level=2).first).to_have_text("Klaar te maken")
    phone.get_by_test_id("lang").select_option("en")
    expect(card.get_by_test_id("order-status")).to_have_text("New")
    no_horizontal_scroll(phone)
    card.get_by_role("link").click()

    expect(phone.get_by_test_id("action-preparing")).to_be_visible()
    expect(phone.locator("main")).not_to_contain_text("null")  # nothing missing shown as "null"
    phone.get_by_test_id("action-preparing").click()
    expect(phone.get_by_test_id("order-status")).to_have_text("Preparing", timeout=TIMEOUT_MS)
    phone.get_by_test_id("action-ready_for_pickup").click()
    expect(phone.get_by_test_id("order-status")).to_have_text("Ready for pickup", timeout=TIMEOUT_MS)

    phone.get_by_label("Customer's pickup code").fill(wrong)
    phone.get_by_test_id("pickup-code-submit").click()
    error = phone.get_by_test_id("pickup-error")
    expect(error).to_contain_text("Wrong code", timeout=TIMEOUT_MS)
    expect(error).to_contain_text("4 attempt(s) left")
    expect(phone.get_by_test_id("order-status")).to_have_text("Ready for pickup")

    phone.get_by_label("Customer's pickup code").fill(code)
    phone.get_by_test_id("pickup-code-submit").click()
    expect(phone.get_by_test_id("order-status")).to_have_text("Collected", timeout=TIMEOUT_MS)
    no_horizontal_scroll(phone)

    # The customer brings the item back: refund that line.
    phone.get_by_text("Refund", exact=True).click()
    phone.locator("[data-testid^='refund-qty-']").first.fill("1")
    phone.get_by_test_id("refund-lines").click()
    expect(phone.get_by_test_id("order-message")).to_have_text("Refund requested.", timeout=TIMEOUT_MS)
    expect(phone.get_by_test_id("order-status")).to_have_text(re.compile("Refunded|Partly refunded"))
    refunds = api.get(f"/retailer/orders/{order_id}/refunds", key=info["retailer_key"])["items"]
    assert [line["quantity"] for line in refunds[0]["lines"]] == [1]

    # The order left today's lists.
    phone.get_by_role("link", name="Orders", exact=True).first.click()
    expect(phone.get_by_test_id("orders-toHandOver")).to_be_visible()
    expect(phone.locator(f"[data-order-id='{order_id}']")).to_have_count(0, timeout=TIMEOUT_MS)

    # A key that stops working (rotated, say) signs the person out with a message, not a blank page.
    phone.evaluate("sessionStorage.setItem('mall.backoffice.key', 'mk_live_rotated_meanwhile')")
    phone.get_by_test_id("orders-reload").click()
    expect(phone.get_by_test_id("signed-out-reason")).to_contain_text("no longer valid", timeout=TIMEOUT_MS)
    expect(phone.get_by_test_id("sign-in")).to_be_visible()
    assert phone.evaluate("sessionStorage.getItem('mall.backoffice.key')") is None


def test_too_many_wrong_codes_lock_the_hand_over_and_the_page_says_for_how_long(
    phone: Page, api: Api, info: dict[str, Any]
) -> None:
    order_id, code = paid_order(api, info["retailer_shop_id"])
    for to in ("preparing", "ready_for_pickup"):
        api.ok("POST", f"/retailer/orders/{order_id}/status", key=info["retailer_key"], body={"to": to})
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    sign_in(phone, info["retailer_key"])
    expect(phone.get_by_test_id("orders-toHandOver")).to_be_visible(timeout=TIMEOUT_MS)
    phone.goto(f"{info['back_office_url']}#/orders/{order_id}")
    error = phone.get_by_test_id("pickup-error")
    for left in (4, 3, 2, 1, 0):
        phone.get_by_label("Customer's pickup code").fill(wrong)
        phone.get_by_test_id("pickup-code-submit").click()
        expect(error).to_contain_text(f"{left} attempt(s) left", timeout=TIMEOUT_MS)
    phone.get_by_label("Customer's pickup code").fill(code)
    phone.get_by_test_id("pickup-code-submit").click()
    expect(error).to_contain_text(re.compile(r"Too many wrong codes: hand-over is locked for \d+ minute"))
    expect(phone.get_by_test_id("order-status")).to_have_text("Ready for pickup")


def wait_until(check: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    """Polls an API condition the page's action leads to (a search index fed by a stream)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout_s:.0f} s"
        time.sleep(0.5)


def test_retailer_creates_a_product_and_photographs_it(phone: Page, api: Api, info: dict[str, Any]) -> None:
    word = unique_word()
    sign_in(phone, info["retailer_key"])
    expect(phone.get_by_test_id("orders-toPrepare")).to_be_visible(timeout=TIMEOUT_MS)

    phone.get_by_role("link", name="Products", exact=True).click()
    phone.get_by_test_id("product-new").click()
    phone.get_by_label("Name").fill(f"Rye loaf {word}")
    phone.get_by_label("Category").select_option("bakery")
    phone.get_by_label("SKU (your reference)").fill(f"{word.upper()}-800")
    phone.get_by_label("Price incl. VAT (€)").fill("4.95")
    phone.get_by_label("Stock").fill("12")
    phone.get_by_test_id("product-save").click()
    expect(phone.get_by_test_id("product-title")).to_have_text(f"Rye loaf {word}", timeout=TIMEOUT_MS)
    product_id = phone.url.rsplit("/", 1)[-1]
    no_horizontal_scroll(phone)

    # The storefront's search finds it by its words.
    wait_until(
        lambda: any(p["id"] == product_id for p in api.get("/products", params={"q": word})["items"]),
        "the new product found by the storefront search",
    )

    # A photo from the phone's camera input: progress, then shown once processed.
    camera = phone.get_by_test_id("image-file")
    assert camera.get_attribute("accept") == "image/*" and camera.get_attribute("capture") is not None
    camera.set_input_files(files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": phone_jpeg()}])
    expect(phone.get_by_test_id("image-ready")).to_be_visible(timeout=PROCESSING_TIMEOUT_MS)
    expect(phone.get_by_test_id("image-done")).to_contain_text("online")
    assert phone.get_by_test_id("image-ready").evaluate("img => img.complete && img.naturalWidth > 0")
    assert api.get(f"/products/{product_id}")["images"], "the storefront shows the photo"

    # A text file renamed .jpg: refused, and the page says why.
    camera.set_input_files(
        files=[{"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo\n" * 20}]
    )
    refusal = phone.get_by_test_id("image-error")
    expect(refusal).to_contain_text("Photo refused", timeout=PROCESSING_TIMEOUT_MS)
    expect(refusal).to_contain_text(re.compile("not a JPEG, PNG or WebP image|damaged or not an image"))
    expect(phone.get_by_test_id("image-failed")).to_have_count(1)
    no_horizontal_scroll(phone)

    # Stock counted at the counter, then the product taken off the storefront.
    sku = f"{word.upper()}-800"
    phone.get_by_test_id(f"stock-{sku}").fill("7")
    phone.get_by_test_id(f"variant-save-{sku}").click()
    expect(phone.get_by_test_id("product-message")).to_have_text("Saved.", timeout=TIMEOUT_MS)
    phone.get_by_label("On the storefront").uncheck()
    phone.get_by_test_id("product-save").click()
    expect(phone.get_by_test_id("product-message")).to_have_text("Saved.", timeout=TIMEOUT_MS)
    mine = api.get(f"/retailer/products/{product_id}", key=info["retailer_key"])
    assert mine["active"] is False and mine["variants"][0]["stock"] == 7

    # The shop's own list finds it by a word of its name.
    phone.get_by_role("link", name="Products", exact=True).click()
    phone.get_by_label("Search my products").fill(word[:6])
    expect(phone.get_by_test_id("product-row")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(phone.get_by_test_id("product-row")).to_contain_text("off the storefront")


def test_a_new_shop_sets_its_hours_and_the_operator_rotates_its_key_and_suspends_it(
    phone: Page, api: Api, info: dict[str, Any]
) -> None:
    # A shop of its own (the demo shops' hours matter to the storefront tests sharing the stack).
    profile = {
        "name": f"Bloemen {unique_word()}",
        "categories": ["flowers-plants"],
        "address": {"street": "Veldstraat 10", "postal_code": "9000", "city": "Gent", "country": "BE"},
        "location": {"lat": 51.0302, "lng": 3.7011},  # away from Korenmarkt, the storefront tests' centre
        "opening_hours": {"mon": [["09:00", "18:00"]]},
        "pickup": {"enabled": True},
        "delivery": {"enabled": False},
    }
    created = api.ok("POST", "/operator/shops", 201, key=info["operator_key"], body=profile)
    shop_id, key = created["shop"]["id"], created["api_key"]

    sign_in(phone, key)
    phone.get_by_role("link", name="My shop").click()
    phone.get_by_label("Saturday").fill("09:30-12:30, 13:30-17:00")
    phone.get_by_label("Closed days").fill("2026-12-25\n2027-01-01")
    phone.get_by_test_id("shop-save").click()
    expect(phone.get_by_test_id("shop-saved")).to_be_visible(timeout=TIMEOUT_MS)
    saved = api.get("/retailer/shop", key=key)["profile"]
    assert saved["opening_hours"]["sat"] == [["09:30", "12:30"], ["13:30", "17:00"]]
    assert saved["closed_dates"] == ["2026-12-25", "2027-01-01"]
    phone.get_by_label("Monday").fill("nine to five")
    phone.get_by_test_id("shop-save").click()
    expect(phone.get_by_test_id("shop-error")).to_contain_text("Monday")
    no_horizontal_scroll(phone)

    phone.get_by_role("link", name="Payouts").click()
    expect(phone.get_by_test_id("payout-account-status")).to_contain_text(
        "Not set up yet", timeout=TIMEOUT_MS
    )
    expect(phone.get_by_test_id("balance")).to_be_visible()

    # The operator's corner: a new key for the shop (the old one stops working), then a suspension.
    phone.get_by_test_id("sign-out").click()
    phone.get_by_text("Mall operator").click()
    phone.get_by_test_id("operator-sign-in-key").fill(info["operator_key"])
    phone.get_by_test_id("operator-sign-in-submit").click()
    row = phone.get_by_test_id("operator-shop").filter(has_text=profile["name"])
    phone.on("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="New key").click()
    expect(phone.get_by_test_id("new-key")).to_be_visible(timeout=TIMEOUT_MS)
    new_key = phone.get_by_test_id("new-key").text_content()
    assert new_key and new_key != key
    assert api.call("GET", "/retailer/shop", key=key).status_code == 401
    row.get_by_role("button", name="Suspend").click()
    expect(phone.get_by_test_id("operator-shop").filter(has_text=profile["name"])).to_have_count(
        0, timeout=TIMEOUT_MS
    )
    assert api.get(f"/operator/shops/{shop_id}", key=info["operator_key"])["status"] == "suspended"
    no_horizontal_scroll(phone)
