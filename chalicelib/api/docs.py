from __future__ import annotations

from chalice import Blueprint, Response

docs = Blueprint(__name__)


@docs.route("/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    import json

    from chalicelib.api.openapi import document

    return Response(
        body=json.dumps(document()), status_code=200, headers={"Content-Type": "application/json"}
    )
