"""tools/web_server.py: the web apps' static server of `make run`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tools.web_server import WebServer, web_config


@pytest.fixture
def storefront() -> Iterator[WebServer]:
    server = WebServer("storefront", 0, web_config("http://127.0.0.1:9")).start()
    yield server
    server.stop()


def get(url: str) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    return session.get(url, timeout=10, allow_redirects=False)


def test_serves_config_json_with_the_api_url(storefront: WebServer) -> None:
    response = get(f"http://127.0.0.1:{storefront.port}/config.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"api_url": "http://127.0.0.1:9"}
    assert web_config("x", "pk_test_1") == {"api_url": "x", "stripe_publishable_key": "pk_test_1"}


def test_serves_the_app_and_the_shared_modules_with_a_javascript_type(storefront: WebServer) -> None:
    assert storefront.url == f"http://127.0.0.1:{storefront.port}/storefront/"
    root = get(f"http://127.0.0.1:{storefront.port}/")
    assert (root.status_code, root.headers["Location"]) == (302, "/storefront/")
    page = get(storefront.url)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    module = get(f"http://127.0.0.1:{storefront.port}/shared/api.js")
    assert module.status_code == 200
    assert module.headers["Content-Type"].startswith("text/javascript")  # else browsers refuse the module


def test_nothing_outside_web_is_served(storefront: WebServer) -> None:
    for path in ("/../README.md", "/%2e%2e/README.md", "/../.local/stack.json"):
        assert get(f"http://127.0.0.1:{storefront.port}{path}").status_code == 404
