"""The OpenAPI 3.1 document, generated from the declared routes and their msgspec schemas."""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec

from chalicelib.api.routing import ROUTES, ErrorBody, RouteSpec
from chalicelib.auth.keys import Role

_REF = "#/components/schemas/{name}"
_ERROR_TEXT = {
    400: "Invalid input: every bad field is named in error.fields",
    401: "Missing or invalid API key",
    403: "The key may not do this",
    404: "Not found (or not yours)",
    409: "Conflicts with the current state",
    422: "Understood but cannot be processed",
    429: "Too many failed attempts: wait for Retry-After seconds",
    502: "The payment provider failed; nothing was charged or reserved, retry later",
}
_SECURITY = {Role.RETAILER: "retailerKey", Role.OPERATOR: "operatorKey"}


@cache
def document() -> dict[str, Any]:
    # Route modules load on first use: the document needs every route's declaration.
    from chalicelib.api.routes import load_every_route_module

    load_every_route_module()
    types: list[Any] = [ErrorBody]
    for route in ROUTES:
        types += [t for t in (route.body, route.query, route.response) if t is not None]
    _, components = msgspec.json.schema_components(types, ref_template=_REF)
    components = _open_tuples(components)
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, components)
    _check_unique_operation_ids(paths)
    query_types = {r.query.__name__ for r in ROUTES if r.query is not None}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Digital Mall API",
            "version": "1.0.0",
            "description": "Storefront, retailer and operator API of the digital mall. Money is integer "
            "euro cents; shown prices include VAT.",
        },
        "paths": paths,
        "components": {
            "schemas": {k: v for k, v in components.items() if k not in query_types},
            "securitySchemes": {
                name: {"type": "http", "scheme": "bearer", "description": f"{role.value} API key"}
                for role, name in _SECURITY.items()
            },
        },
    }


def _operation(route: RouteSpec, components: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id(route),
        "summary": route.summary,
        "description": _description(route),
        "tags": [route.tag],
        "parameters": [
            {
                "name": p,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": "^[a-z0-9_-]{1,64}$"},
            }
            for p in route.path_params
        ],
        "responses": {},
    }
    if route.query is not None:
        operation["parameters"] += _query_parameters(components[route.query.__name__])
    operation["parameters"] += [
        {"name": h, "in": "header", "required": True, "schema": {"type": "string", "maxLength": 255}}
        for h in route.headers
    ]
    if route.auth is not None:
        operation["security"] = [{_SECURITY[route.auth]: []}]
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": _REF.format(name=route.body.__name__)}}},
        }
    success: dict[str, Any] = {"description": "Success"}
    if route.media_type != "application/json":
        success["content"] = {route.media_type: {"schema": {"type": "string"}}}
    elif route.response is not None:
        success["content"] = {
            "application/json": {"schema": {"$ref": _REF.format(name=route.response.__name__)}}
        }
    operation["responses"][str(route.status)] = success
    for status in route.errors:
        operation["responses"][str(status)] = {
            "description": _ERROR_TEXT[status],
            "content": {"application/json": {"schema": {"$ref": _REF.format(name="ErrorBody")}}},
        }
    return operation


def _query_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        # Optional query fields are "X or null" in JSON Schema; in a query string they are just absent.
        variants = [s for s in prop.get("anyOf", []) if s.get("type") != "null"]
        clean = dict(variants[0]) if len(variants) == 1 else dict(prop)
        if "default" in prop and prop["default"] is not None:
            clean["default"] = prop["default"]
        parameters.append({"name": name, "in": "query", "required": name in required, "schema": clean})
    return parameters


def operation_id(route: RouteSpec) -> str:
    """`checkoutCart`: the handler's name in camelCase, what client generators turn into method names.
    Keyed routes start with their role (`operatorListShops`, `retailerMyShop`): the operator's and the
    storefront's `list_shops` are different calls, and the prefix keeps every id stable when a route is
    added elsewhere."""
    words = ([route.auth.value] if route.auth is not None else []) + route.name.split("_")
    return words[0] + "".join(word.capitalize() for word in words[1:] if word)


def _description(route: RouteSpec) -> str:
    """What a generated client's docstring says beyond the summary: who may call, what comes back."""
    who = f"Needs the {route.auth.value} API key as a Bearer token." if route.auth else "Needs no API key."
    failures = ", ".join(str(status) for status in route.errors)
    answers = f"Answers {route.status}" + (f", or {failures} with an ErrorBody." if failures else ".")
    return f"{who} {answers}"


def _check_unique_operation_ids(paths: dict[str, dict[str, Any]]) -> None:
    seen: dict[str, str] = {}
    for path, item in paths.items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            clash = seen.setdefault(operation["operationId"], where)
            if clash != where:
                raise ValueError(f"operationId {operation['operationId']} is used by {clash} and {where}")


def _open_tuples(schema: Any) -> Any:
    """msgspec closes a fixed-length tuple with `items: false`, which OpenAPI 3.1 allows but generators
    (openapi-python-client among them) refuse. With minItems = maxItems = len(prefixItems) an `items`
    schema can never apply, so stating one (the elements' common shape) accepts exactly the same arrays."""
    if isinstance(schema, list):
        return [_open_tuples(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    opened = {key: _open_tuples(value) for key, value in schema.items()}
    if opened.get("items") is False and opened.get("prefixItems"):
        shapes: list[Any] = []
        for shape in opened["prefixItems"]:
            if shape not in shapes:
                shapes.append(shape)
        opened["items"] = shapes[0] if len(shapes) == 1 else {"anyOf": shapes}
    return opened
