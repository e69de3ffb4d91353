"""Hostile input an adversarial client sent: control and invisible formatting characters in the names and
descriptions others read (refused with a 400 naming the field), and webhook URLs that spell a private
address in a form a resolver accepts (refused at registration outside local stages)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

BAKERY = 0
HIDDEN = ["\x00", "\u202e", "\u2066", "\x1b", "\x7f", "\x85", "\u200b", "\ufeff"]


def product(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Rye loaf",
        "category": "bakery",
        "vat_rate_bps": 600,
        "variants": [{"sku": "RYE-1", "price_cents": 380, "stock": 5, "options": {"size": "large"}}],
        **changes,
    }


def fields(body: dict[str, Any]) -> list[str]:
    return [f["field"] for f in body["error"]["fields"]]


@pytest.mark.parametrize("char", HIDDEN)
def test_names_and_descriptions_with_hidden_characters_are_400_naming_the_field(api, open_shop, char):
    _, key = open_shop(BAKERY)
    status, body = api.call("POST", "/retailer/products", product(name=f"Rye{char}loaf"), key=key)
    assert (status, body["error"]["code"], fields(body)) == (400, "validation_error", ["name"]), body
    status, body = api.call("POST", "/retailer/products", product(description=f"Good {char}bread"), key=key)
    assert (status, fields(body)) == (400, ["description"]), body
    variants = [{"sku": "RYE-1", "price_cents": 380, "stock": 5, "options": {f"si{char}ze": f"l{char}"}}]
    status, body = api.call("POST", "/retailer/products", product(variants=variants), key=key)
    assert status == 400 and fields(body) == [f"variants[0].options.si{char}ze"], body
    status, body = api.call("PATCH", "/retailer/shop", {"name": f"Bakkerij{char}"}, key=key)
    assert (status, fields(body)) == (400, ["name"]), body
    status, body = api.call("PATCH", "/retailer/shop", {"description": f"Since 1921{char}"}, key=key)
    assert (status, fields(body)) == (400, ["description"]), body
    # Every bad field at once, with the other problems of the request.
    status, body = api.call("POST", "/retailer/products", product(name=f"A{char}", vat_rate_bps=-1), key=key)
    assert status == 400 and sorted(fields(body)) == ["name", "vat_rate_bps"], body


def test_line_breaks_are_text_in_descriptions_only_and_scripts_keep_their_joiners(api, open_shop):
    _, key = open_shop(BAKERY)
    status, body = api.call("POST", "/retailer/products", product(name="Rye\nloaf"), key=key)
    assert (status, fields(body)) == (400, ["name"]), body
    family = "Family pack \U0001f468\u200d\U0001f469\u200d\U0001f467 \u05dc\u05d7\u05dd\u200f"
    status, made = api.call(
        "POST", "/retailer/products", product(name=family, description="Rye.\r\n\tBaked daily."), key=key
    )
    assert status == 201, made
    assert (made["name"], made["description"]) == (family, "Rye.\r\n\tBaked daily.")


def test_webhook_urls_spelling_a_private_address_are_refused_at_registration(api, open_shop, monkeypatch):
    from chalicelib.core.config import settings
    from chalicelib.notify import webhooks

    _, key = open_shop(BAKERY)
    monkeypatch.setattr(webhooks, "settings", lambda: replace(settings(), stage="prod"))
    for url in (
        "https://127.1/",
        "https://0x7f.1/",
        "https://0177.0.0.1/",
        "https://2130706433/",
        "https://localhost./",
        "https://LOCALHOST/",
        "https://api.localhost./",
        "https://[::ffff:127.0.0.1]/",
        "https://169.254.43518/latest",
        "https://1.2.3.999/",
    ):
        status, body = api.call("PUT", "/retailer/webhook", {"url": url}, key=key)
        assert status == 400, (url, body)
        assert body["error"]["fields"] == [{"field": "url", "message": "must be a public host"}], url
    assert api.call("GET", "/retailer/webhook", key=key)[0] == 404
    status, body = api.call("PUT", "/retailer/webhook", {"url": "https://hooks.example.be./mall"}, key=key)
    assert status in (200, 201), body
