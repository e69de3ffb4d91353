"""Every route of the HTTP API, registered with the Chalice app at start, each module loaded on first use.

Chalice must know every route when app.py builds the app (to route requests, and for `chalice deploy` to
write API Gateway's definition); it need not have their code. So app.py registers the routes listed in
chalicelib/api/route_table.py (module, method, path, view name, request content types, written by `python
-m tools.route_table` from the modules' own declarations; a test keeps the two equal), each with a view
that imports its route module on the route's first request and then calls the view the module declared
(chalicelib/api/routing.py). A catalogue cold start thus never loads the checkout, retailer, operator or
payout routes, nor the schemas and services they import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from chalice import Chalice, Response

from chalicelib.api.route_table import ROUTE_TABLE
from chalicelib.api.routing import SERVED
from chalicelib.core.config import payments_simulated
from chalicelib.core.fresh_stack import import_on_fresh_stack

# Every route module, in the order of the table (and of /openapi.json).
ROUTE_MODULES = (
    "chalicelib.api.storefront",
    "chalicelib.api.checkout",
    "chalicelib.api.retailer",
    "chalicelib.api.images",
    "chalicelib.api.retailer_orders",
    "chalicelib.api.retailer_webhooks",
    "chalicelib.api.retailer_payouts",
    "chalicelib.api.operator",
    "chalicelib.api.operator_payouts",
    "chalicelib.api.payments",
    "chalicelib.api.docs",
    "chalicelib.api.dev_payments",
)
# The simulated provider's pages: served only where payments are simulated (make run, tests), never in a
# stage that takes real payments.
SIMULATED_ONLY = "chalicelib.api.dev_payments"


def register_routes(app: Chalice) -> None:
    for module, method, path, name, content_types in ROUTE_TABLE:
        if module == SIMULATED_ONLY and not payments_simulated():
            continue
        view = _loaded_on_first_use(app, module, method, path)
        view.__name__ = name
        app.route(path, methods=[method], content_types=list(content_types), name=name)(view)


def _loaded_on_first_use(app: Chalice, module: str, method: str, path: str) -> Callable[..., Response]:
    loaded = False

    def view(**path_params: str) -> Response:
        nonlocal loaded
        if not loaded:
            # Not `module in sys.modules`: a module another request is still importing is there already,
            # half run. An import waits on the import system's lock for that module until it is complete.
            # On a fresh stack, as app.py's own imports (chalicelib/core/fresh_stack.py).
            import_on_fresh_stack(module)
            if (method, path) not in SERVED:
                # The table is older than the module (a route renamed or removed since it was written).
                stale = f"{module} does not declare {method} {path}: run python -m tools.route_table"
                raise LookupError(stale)
            loaded = True
        return SERVED[(method, path)].view(app.current_request, **path_params)

    return view


def load_every_route_module() -> None:
    """For what needs every route's declaration at once: the OpenAPI document, the route table's tool,
    tests that walk the routes."""
    for module in ROUTE_MODULES:
        importlib.import_module(module)


def table_rows() -> list[tuple[str, str, str, str, tuple[str, ...]]]:
    """The rows chalicelib/api/route_table.py must hold: every declared route, module by module."""
    load_every_route_module()
    order = {module: position for position, module in enumerate(ROUTE_MODULES)}
    served = sorted(SERVED.values(), key=lambda s: order[s.module])  # stable: declaration order within
    return [(s.module, s.method, s.path, s.name, s.content_types) for s in served]
