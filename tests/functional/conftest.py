from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from tools.demo_data import demo_products, demo_shops


class Api:
    """A thin JSON wrapper over chalice's test client."""

    def __init__(self, client: Client) -> None:
        self.http = client.http

    def call(
        self, method: str, path: str, body: Any = None, key: str | None = None, raw: bytes | None = None
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        response = (
            getattr(self.http, method.lower())(path, headers=headers, body=payload)
            if method != "GET"
            else self.http.get(path, headers=headers)
        )
        text = response.body.decode() if response.body else ""
        return response.status_code, (json.loads(text) if text else None)


@pytest.fixture
def api(aws: dict[str, str]) -> Iterator[Api]:
    from app import app
    from chalicelib.api.routes import load_every_route_module

    # Route modules load on a route's first request; tests that walk ROUTES need every declaration.
    load_every_route_module()
    with Client(app, stage_name="test") as client:
        yield Api(client)


@pytest.fixture
def operator_key(aws: dict[str, str]) -> str:
    from chalicelib.auth.service import create_operator_key

    return create_operator_key()


@pytest.fixture
def shop_body() -> dict[str, Any]:
    body = dict(demo_shops()[0])
    body.pop("key")
    return body


@pytest.fixture
def open_shop(api: Api, operator_key: str):
    """Opens a demo shop through the operator API; returns (shop, retailer key)."""

    def _open(index: int = 0, **overrides: Any) -> tuple[dict[str, Any], str]:
        body = dict(demo_shops()[index])
        body.pop("key")
        body.update(overrides)
        status, created = api.call("POST", "/operator/shops", body, key=operator_key)
        assert status == 201, created
        return created["shop"], created["api_key"]

    return _open


@pytest.fixture
def product_body() -> dict[str, Any]:
    shop = demo_shops()[0]
    return demo_products(shop["key"])[0]


@pytest.fixture(autouse=True)
def no_private_data_in_output() -> Iterator[None]:
    """Fails any test whose log or metric output carries a key, token, secret, e-mail or street address
    (tests/functional/private_output.py)."""
    from private_output import watched

    with watched() as watch:
        yield
    leaks = watch.leaks()
    assert not leaks, f"written to logs or metrics: {leaks}"
