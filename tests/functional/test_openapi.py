"""The OpenAPI document served at /openapi.json: valid 3.1, and true to the routes the app declares."""

from __future__ import annotations

import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from chalicelib.api.routing import ROUTES
from chalicelib.auth.keys import Role

ERROR_REF = "#/components/schemas/ErrorBody"
IDENTIFIER = re.compile(r"^[a-z][a-zA-Z0-9]*$")  # camelCase: what client generators turn into method names
SCHEMES = {Role.RETAILER: "retailerKey", Role.OPERATOR: "operatorKey"}


@pytest.fixture
def document(api) -> dict[str, Any]:
    status, body = api.call("GET", "/openapi.json")
    assert status == 200
    assert ROUTES, "the app is imported by the api fixture, which registers every route"
    return body


def operations(document: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    return [(route, document["paths"][route.path][route.method.lower()]) for route in ROUTES]


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_declared_route_is_documented_with_its_method_and_nothing_else(api, document):
    from app import app

    declared = {(r.path, r.method.lower()) for r in ROUTES}
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == declared
    # Every route the app serves is declared (the document itself excepted), with the same methods.
    served = {
        (path, method.lower())
        for path, entries in app.routes.items()
        for method in entries
        if path != "/openapi.json"
    }
    assert served == declared
    operation_ids = [op["operationId"] for _, op in operations(document)]
    assert len(operation_ids) == len(set(operation_ids))


def test_bodies_parameters_and_success_responses_match_the_routes(document):
    schemas = document["components"]["schemas"]
    for route, op in operations(document):
        where = f"{route.method} {route.path}"
        if route.body is not None:
            body_ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert op["requestBody"]["required"] is True, where
            assert body_ref == f"#/components/schemas/{route.body.__name__}", where
            assert route.body.__name__ in schemas, where
        else:
            assert "requestBody" not in op, where
        path_params = {p["name"] for p in op["parameters"] if p["in"] == "path"}
        assert path_params == set(route.path_params), where
        assert str(route.status) in op["responses"], where
        if route.query is not None:
            query_params = {p["name"] for p in op["parameters"] if p["in"] == "query"}
            # As sent: a field may be named for the wire (pickup-slots' `from`, a Python keyword).
            assert query_params == set(route.query.__struct_encode_fields__), where


def test_error_responses_use_the_error_body(document):
    error_body = document["components"]["schemas"]["ErrorBody"]
    assert error_body["required"] == ["error"]
    for route, op in operations(document):
        errors = {code: r for code, r in op["responses"].items() if int(code) >= 400}
        assert set(errors) == {str(code) for code in route.errors}, route.path
        for code, response in errors.items():
            assert response["content"]["application/json"]["schema"]["$ref"] == ERROR_REF, (route.path, code)
            assert response["description"], (route.path, code)
        # Every input can be rejected, every id can be unknown.
        if route.body is not None or route.query is not None:
            assert "400" in errors, route.path
        if route.path_params:
            assert "404" in errors, route.path


def test_secured_routes_declare_their_key_and_public_routes_none(document):
    schemes = document["components"]["securitySchemes"]
    assert {schemes[name]["scheme"] for name in SCHEMES.values()} == {"bearer"}
    for route, op in operations(document):
        if route.auth is None:
            assert "security" not in op, route.path
        else:
            (requirement,) = op["security"]
            (scheme,) = requirement
            assert scheme in schemes, route.path
            # Each role has its own scheme: a retailer route never advertises the operator key.
            assert scheme == SCHEMES.get(route.auth, scheme), route.path
            assert {"401", "403"} <= set(op["responses"]), route.path


def test_documented_shapes_match_real_answers(api, document, open_shop, operator_key):
    """Spot-checks that what the API returns has the fields the document promises."""
    schemas = document["components"]["schemas"]
    _, key = open_shop()
    _, page = api.call("GET", "/shops")
    assert set(page) == set(schemas["ShopPage"]["properties"])
    assert set(page["items"][0]) <= set(schemas["Shop"]["properties"])
    assert set(schemas["Shop"]["required"]) <= set(page["items"][0])
    status, error = api.call("GET", "/shops?limit=0")
    assert status == 400 and set(error) == set(schemas["ErrorBody"]["properties"])
    status, mine = api.call("GET", "/retailer/shop", key=key)
    assert set(mine) == set(schemas["RetailerShop"]["properties"])


def test_operation_ids_are_unique_camel_case_identifiers(document):
    ids = {(route.method, route.path): op["operationId"] for route, op in operations(document)}
    assert [i for i in ids.values() if not IDENTIFIER.match(i)] == []
    assert len(set(ids.values())) == len(ids)
    assert ids["POST", "/carts/{cart_id}/checkout"] == "checkoutCart"
    # The storefront's and the operator's list of shops are different calls, told apart by who calls.
    assert ids["GET", "/shops"] == "listShops"
    assert ids["GET", "/operator/shops"] == "operatorListShops"
    assert ids["GET", "/retailer/shop"] == "retailerMyShop"


def test_every_operation_has_a_summary_and_a_description(document):
    for route, op in operations(document):
        assert op["summary"].strip() and op["description"].strip(), route.path
        assert op["description"] != op["summary"], route.path
        who = "Needs no API key." if route.auth is None else f"Needs the {route.auth.value} API key"
        assert op["description"].startswith(who), route.path


def test_tuples_have_an_items_schema_generators_accept_and_the_same_arrays(document):
    def walk(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, list):
            return [found for child in node for found in walk(child)]
        if not isinstance(node, dict):
            return []
        return [node] * ("prefixItems" in node) + [f for child in node.values() for f in walk(child)]

    tuples = walk(document)
    assert tuples, "opening hours are [opens, closes] pairs"
    for schema in tuples:
        # `items: false` is what openapi-python-client refuses; the length bounds keep the tuple closed.
        assert isinstance(schema["items"], dict), schema
        assert schema["minItems"] == schema["maxItems"] == len(schema["prefixItems"]), schema
    # The wire format is unchanged: a day is a list of [opens, closes] pairs, and nothing else fits.
    day = Draft202012Validator(document["components"]["schemas"]["OpeningHours"]["properties"]["mon"])
    assert day.is_valid([["09:00", "12:30"], ["13:30", "18:00"]])
    assert day.is_valid([])
    for wrong in ([["09:00"]], [["09:00", "12:00", "13:00"]], [["09:00", 12]], [["9am", "5pm"]]):
        assert not day.is_valid(wrong), wrong
