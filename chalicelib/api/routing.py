"""Route declaration for every route module: parses and authenticates the request, calls the handler, maps
domain errors to HTTP in this one place, and records each route for the OpenAPI document.

A route module's `@endpoint` declarations fill SERVED (what answers each method and path) and ROUTES (what
the OpenAPI document describes) when the module is imported. The Chalice app does not import route modules
at start: it registers every route from chalicelib/api/route_table.py and imports a route's module on the
route's first request (chalicelib/api/routes.py), so a cold start loads only the code its request uses."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from chalice import Response

from chalicelib.auth.keys import Role
from chalicelib.auth.service import authenticate
from chalicelib.core.document import Document
from chalicelib.core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
    Unprocessable,
    UpstreamFailure,
)
from chalicelib.core.ids import looks_like_id
from chalicelib.core.log import logger
from chalicelib.core.validation import parse_body, parse_query

STATUS_OF: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidInput, 400),
    (NotAuthenticated, 401),
    (NotAllowed, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Unprocessable, 422),
    (TooManyAttempts, 429),
    (UpstreamFailure, 502),
)
_PATH_PARAM = re.compile(r"{(\w+)}")


class FieldError(msgspec.Struct):
    field: str
    message: str


class ErrorDetail(msgspec.Struct):
    """One shape for every error, from a handler, from Chalice or from API Gateway (infra/mall-stack.yaml):
    a client reads the same four keys whatever failed. `fields` names each bad field of a 400 (else empty);
    `details` carries the failure's data (else empty)."""

    code: str
    message: str
    # No defaults: the document marks all four required, as they always are.
    fields: list[FieldError]
    details: dict[str, Any]


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    name: str
    summary: str
    tag: str
    auth: Role | None
    body: type | None
    query: type | None
    response: type | None
    status: int
    errors: tuple[int, ...]
    headers: tuple[str, ...] = ()
    raw_body: bool = False
    media_type: str = "application/json"
    base_url: bool = False

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)


ROUTES: list[RouteSpec] = []


@dataclass(frozen=True)
class Served:
    """What answers one method on one path: the route module that declares it, Chalice's view name and the
    request bodies it accepts (chalicelib/api/route_table.py lists these without the view), and the view,
    called with the request and the path parameters."""

    module: str
    method: str
    path: str
    name: str
    content_types: tuple[str, ...]
    view: Callable[..., Response]


SERVED: dict[tuple[str, str], Served] = {}


def serve(
    method: str, path: str, content_types: tuple[str, ...] = ("application/json",)
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Registers `view(request, **path_params) -> Response` for `method` on `path`, undocumented: the
    routes of @endpoint go through here too, and the OpenAPI document's own route uses it directly."""

    def register(view: Callable[..., Response]) -> Callable[..., Response]:
        SERVED[(method, path)] = Served(view.__module__, method, path, view.__name__, content_types, view)
        return view

    return register


def endpoint(
    method: str,
    path: str,
    *,
    summary: str,
    tag: str,
    auth: Role | None = None,
    body: type | None = None,
    query: type | None = None,
    response: type | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    headers: tuple[str, ...] = (),
    raw_body: bool = False,
    media_type: str = "application/json",
    base_url: bool = False,
    content_types: tuple[str, ...] = ("application/json",),
    cache_seconds: int = 0,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declares a route. The handler receives path parameters, then `principal`, `body`, `query`,
    `headers` (the named request headers, lower-case, None when absent), `raw_body` and `base_url` (where
    this API is served, for links back to it) as keyword arguments when the route declares them, and
    returns a msgspec struct (or None for 204), or a Document for `media_type` other than JSON.
    `content_types`: what the request body may be (an HTML form's button posts a form).
    `cache_seconds`: a public Cache-Control max-age on 200 answers (data that changes only on deployment)."""

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        implied = {400} if body or query or "{" in path else set()
        implied |= {401, 403} if auth else set()
        implied |= {404} if "{" in path else set()
        spec = RouteSpec(
            method,
            path,
            handler.__name__,
            summary,
            tag,
            auth,
            body,
            query,
            response,
            status,
            tuple(sorted(implied | set(errors))),
            tuple(h.lower() for h in headers),
            raw_body,
            media_type,
            base_url,
        )
        ROUTES.append(spec)

        def view(request: Any, **path_params: str) -> Response:
            started = time.perf_counter()
            logger.append_keys(request_id=(request.context or {}).get("requestId"))
            try:
                result = handler(**path_params, **_arguments(spec, request, path_params))
                response = to_response(spec.status, result)
                if cache_seconds and response.status_code == 200:
                    response.headers["Cache-Control"] = f"public, max-age={cache_seconds}"
            except DomainError as error:
                response = error_response(error)
            except Exception:
                logger.exception("unhandled error", extra={"route": path, "method": method})
                response = to_response(
                    500, ErrorBody(ErrorDetail("internal_error", "Something went wrong.", [], {}))
                )
            logger.info(
                "request",
                extra={
                    "method": method,
                    "route": path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response

        view.__name__ = handler.__name__
        view.__module__ = handler.__module__
        serve(method, path, content_types)(view)
        return handler

    return decorate


def _arguments(spec: RouteSpec, request: Any, path_params: dict[str, str]) -> dict[str, Any]:
    for name, value in path_params.items():
        if not looks_like_id(value):
            # A malformed id cannot name anything we store: it is simply not found.
            raise NotFound(name.removesuffix("_id"), value[:64])
    kwargs: dict[str, Any] = {}
    if spec.auth is not None:
        kwargs["principal"] = authenticate(
            request.headers.get("authorization"), spec.auth, (spec.method, spec.path)
        )
    if spec.body is not None:
        kwargs["body"] = parse_body(request.raw_body, spec.body)
    if spec.query is not None:
        kwargs["query"] = parse_query(request.query_params, spec.query)
    if spec.headers:
        kwargs["headers"] = {name: request.headers.get(name) for name in spec.headers}
    if spec.raw_body:
        kwargs["raw_body"] = request.raw_body or b""
    if spec.base_url:
        kwargs["base_url"] = base_url_of(request)
    return kwargs


def base_url_of(request: Any) -> str:
    """This API's own URL as the caller reached it: API Gateway's stage prefix included when the path
    carries it (the execute-api domain), none behind a custom domain or chalice local."""
    headers = request.headers or {}
    context = request.context or {}
    proto = headers.get("x-forwarded-proto") or ("https" if context.get("domainName") else "http")
    host = headers.get("host") or context.get("domainName") or "localhost"
    stage = context.get("stage")
    prefix = f"/{stage}" if stage and str(context.get("path", "")).startswith(f"/{stage}/") else ""
    return f"{proto}://{host}{prefix}"


def to_response(status: int, result: Any) -> Response:
    if isinstance(result, Document):
        headers = {"Content-Type": f"{result.media_type}; charset=utf-8"}
        if result.filename:
            headers["Content-Disposition"] = f'attachment; filename="{result.filename}"'
        return Response(body=result.text, status_code=status, headers=headers)
    if result is None:
        return Response(body="", status_code=204 if status == 200 else status)
    return Response(
        body=msgspec.json.encode(result).decode(),
        status_code=status,
        headers={"Content-Type": "application/json"},
    )


def status_for(error: DomainError) -> int:
    return next((status for family, status in STATUS_OF if isinstance(error, family)), 400)


def error_response(error: DomainError) -> Response:
    fields: list[FieldError] = []
    if isinstance(error, InvalidInput):
        fields = [FieldError(p.field, p.message) for p in error.problems]
    detail = ErrorDetail(error.code, error.message, fields, dict(error.details))
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, NotAuthenticated) else None
    if isinstance(error, TooManyAttempts):
        headers = {"Retry-After": str(error.retry_after_seconds)}
    response = to_response(status_for(error), ErrorBody(detail))
    if headers:
        response.headers.update(headers)
    return response


# Chalice answers some requests itself, before or around our handlers, with its own body
# ({"Code": "UnsupportedMediaType", "Message": ...}): these are its codes in ours.
_CHALICE_CODES = {
    "UnsupportedMediaType": ("unsupported_media_type", "Send the body as application/json."),
    "MethodNotAllowedError": ("method_not_allowed", "This path does not accept this method."),
    "BadRequest": ("not_acceptable", "The response type is not one the request accepts."),
    "BadRequestError": ("validation_error", "The request is malformed."),
    "InternalServerError": ("internal_error", "Something went wrong."),
}


def chalice_errors_in_our_shape(cors: Any) -> Callable[[Any, Callable[[Any], Response]], Response]:
    """An HTTP middleware (app.register_middleware) that rewrites Chalice's own error bodies (415 without
    a JSON Content-Type, 405 for a method a path lacks, its 500) into the error shape, keeping its headers
    (Allow) and adding the CORS headers Chalice leaves off some of them, so a browser can read every error.
    `cors` is app.api.cors (True or a CORSConfig)."""
    from chalice import CORSConfig

    config = cors if isinstance(cors, CORSConfig) else CORSConfig() if cors else None
    cors_headers = config.get_access_control_headers() if config else {}

    def middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
        response = get_response(event)
        body = response.body
        if response.status_code < 400 or not (isinstance(body, dict) and "Code" in body):
            return response
        name = str(body["Code"])
        code, message = _CHALICE_CODES.get(
            name, (_snake(name.removesuffix("Error")), str(body.get("Message")))
        )
        details = {"allow": response.headers["Allow"]} if "Allow" in response.headers else {}
        shaped = to_response(response.status_code, ErrorBody(ErrorDetail(code, message, [], details)))
        shaped.headers = {**response.headers, **shaped.headers}
        for header, value in cors_headers.items():
            shaped.headers.setdefault(header, value)
        return shaped

    return middleware


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() or "error"
