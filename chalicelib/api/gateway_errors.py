"""API Gateway's own answers, as chalice local and chalice.test give them.

Deployed, API Gateway answers a request no route matches itself, from the gateway responses in
infra/mall-stack.yaml (the API's error shape, CORS headers). chalice local and chalice.test mimic the
gateway with a hard-coded `403 {"message": "Missing Authentication Token"}` (and echo an Authorization
header back into that body). This answers them from the same templates instead, so what a client meets
locally and in tests is what it meets deployed. app.py installs it only when chalice.local is loaded:
never in the Lambda.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "mall-stack.yaml"
_HEADER = "gatewayresponse.header."


@cache
def gateway_responses() -> dict[str, dict[str, Any]]:
    """The template's gateway responses by response type (MISSING_AUTHENTICATION_TOKEN, DEFAULT_4XX...)."""
    import yaml

    document = yaml.safe_load(TEMPLATE.read_text())
    defaults = {name: str(p.get("Default", "")) for name, p in document.get("Parameters", {}).items()}
    found: dict[str, dict[str, Any]] = {}
    for resource in document["Resources"].values():
        if resource["Type"] == "AWS::ApiGateway::GatewayResponse":
            properties = resource["Properties"]
            found[properties["ResponseType"]] = {**properties, "_parameters": defaults}
    return found


def render(response_type: str, status: int, context: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a gateway response, with `$context.<name>` taken from `context`
    (`error.messageString` is JSON-quoted, as API Gateway quotes it)."""
    properties = gateway_responses()[response_type]
    values = {**context, "error.messageString": json.dumps(context.get("error.message", ""))}
    body = re.sub(
        r"\$context\.([\w.]+)",
        lambda m: values.get(m.group(1), ""),
        properties["ResponseTemplates"]["application/json"],
    )
    headers = {"Content-Type": "application/json"}
    for name, value in properties.get("ResponseParameters", {}).items():
        if isinstance(value, dict) and "Fn::Sub" in value:
            value = re.sub(
                r"\$\{(\w+)\}", lambda m: properties["_parameters"].get(m.group(1), ""), value["Fn::Sub"]
            )
        headers[name.removeprefix(_HEADER)] = str(value).strip("'")
    return int(properties.get("StatusCode", status)), headers, body.encode()


def answer_like_the_deployed_gateway() -> None:
    from chalice.local import ForbiddenError, LocalGateway, LocalGatewayException

    if getattr(LocalGateway, "_mall_gateway_responses", False):
        return
    original = LocalGateway.handle_request

    def handle_request(self: LocalGateway, method: str, path: str, headers: Any, body: Any) -> Any:
        try:
            return original(self, method, path, headers, body)
        except ForbiddenError as error:
            # Only the no-route answer carries this error type; an authorizer's refusal is left alone.
            if error.headers.get("x-amzn-ErrorType") != "UnauthorizedException":
                raise
            request_id = error.headers.get("x-amzn-RequestId", "")
            context = {
                "requestId": request_id,
                "error.responseType": "MISSING_AUTHENTICATION_TOKEN",
                "error.message": "Missing Authentication Token",
            }
            status, answer_headers, answer = render("MISSING_AUTHENTICATION_TOKEN", 403, context)
            raise _GatewayAnswer(status, {**answer_headers, "x-amzn-RequestId": request_id}, answer) from None

    class _GatewayAnswer(LocalGatewayException):
        def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
            super().__init__(headers, body)
            self.CODE = status

    LocalGateway.handle_request = handle_request  # type: ignore[method-assign]
    LocalGateway._mall_gateway_responses = True  # type: ignore[attr-defined]
