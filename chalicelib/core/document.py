"""A response body that is not JSON (a CSV statement, a small HTML page), returned by a service as is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    media_type: str
    text: str
    filename: str | None = None  # offered as a download under this name
