"""The OpenAPI document of every declared route (chalicelib/api/openapi.py builds it on first request)."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.api.routing import serve


@serve("GET", "/openapi.json")
def openapi_document(request: Any) -> Response:
    import json

    from chalicelib.api.openapi import document

    return Response(
        body=json.dumps(document()), status_code=200, headers={"Content-Type": "application/json"}
    )
