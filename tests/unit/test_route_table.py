"""chalicelib/api/route_table.py and chalicelib/api/routes.py: the app registers every declared route without
importing its module, and a route's first request (even many at once) loads the module and is answered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools import route_table

ROOT = Path(__file__).resolve().parents[2]


def test_the_table_is_what_the_route_modules_declare() -> None:
    assert route_table.TABLE.read_text() == route_table.render(), (
        "chalicelib/api/route_table.py differs from the routes declared: run python -m tools.route_table"
    )


def test_the_app_registers_every_route_of_the_table_as_declared() -> None:
    from app import app
    from chalicelib.api.route_table import ROUTE_TABLE
    from chalicelib.api.routes import SIMULATED_ONLY

    simulated = os.environ.get("PAYMENT_GATEWAY") == "simulated"
    expected = [row for row in ROUTE_TABLE if simulated or row[0] != SIMULATED_ONLY]
    registered = [(path, method) for path, methods in app.routes.items() for method in methods]
    assert sorted(registered) == sorted((path, method) for _, method, path, _, _ in expected)
    for _, method, path, name, content_types in expected:
        entry = app.routes[path][method]
        assert (entry.view_name, tuple(entry.content_types)) == (name, content_types)


def test_the_simulated_pages_are_never_registered_where_payments_are_real() -> None:
    child = "import app, json; print(json.dumps(sorted(app.app.routes)))"
    env = {**os.environ, "PAYMENT_GATEWAY": "stripe"}
    done = subprocess.run([sys.executable, "-c", child], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    paths = json.loads(done.stdout.strip().splitlines()[-1])
    assert "/products/{product_id}" in paths and not [p for p in paths if p.startswith("/dev/")]


# A fresh interpreter: app.py loads no route module; sixteen first requests at once to a route whose
# module is not loaded yet (chalice local serves on threads) all get the whole answer.
_FIRST_REQUESTS = """
import json, sys, threading
import app
loaded = sorted(m for m in sys.modules if m.startswith("chalicelib.api.") and m not in (
    "chalicelib.api.cors", "chalicelib.api.route_table", "chalicelib.api.routes", "chalicelib.api.routing",
    "chalicelib.api.gateway_errors"))

def event(path):
    return {"resource": path, "path": path, "httpMethod": "GET", "headers": {"accept": "application/json"},
            "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
            "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
            "requestContext": {"resourcePath": path, "httpMethod": "GET", "path": "/api" + path,
                               "stage": "api", "requestId": "r", "identity": {"sourceIp": "127.0.0.1"}}}

answers, start = [], threading.Barrier(16)

def ask(path):
    start.wait()
    response = app.app(event(path), None)
    answers.append((path, response["statusCode"], response["body"]))

paths = ["/categories"] * 8 + ["/openapi.json"] * 8
threads = [threading.Thread(target=ask, args=(p,)) for p in paths]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"loaded_at_start": loaded, "answers": answers,
                  "checkout_loaded": "chalicelib.api.checkout" in sys.modules}))
"""


def test_route_modules_load_on_their_first_request_even_many_at_once() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_REQUESTS],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["loaded_at_start"] == []
    by_path: dict[str, set[tuple[int, str]]] = {}
    for path, status, body in report["answers"]:
        by_path.setdefault(path, set()).add((status, body))
    assert len(report["answers"]) == 16 and len(by_path) == 2
    for path, outcomes in by_path.items():
        assert len(outcomes) == 1, f"{path}: the same answer for every first request"
        status, _ = next(iter(outcomes))
        assert status == 200, path
    categories = json.loads(next(iter(by_path["/categories"]))[1])
    assert categories["items"], "the storefront's module answered"
    # The OpenAPI document loads every route module; it is complete.
    document = json.loads(next(iter(by_path["/openapi.json"]))[1])
    assert "/carts/{cart_id}/checkout" in document["paths"] and report["checkout_loaded"]


def test_a_route_the_table_lists_but_its_module_no_longer_declares_fails_naming_the_tool() -> None:
    from chalice import Chalice

    from chalicelib.api import routes

    app = Chalice(app_name="route-table-test")
    view = routes._loaded_on_first_use(app, "chalicelib.api.storefront", "GET", "/no-longer-declared")
    with pytest.raises(LookupError, match=r"python -m tools\.route_table"):
        view()
