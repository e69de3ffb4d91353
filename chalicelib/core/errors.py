"""Domain failures. Each concrete error names one thing that went wrong and carries its data; the API
layer maps the families below to HTTP status codes in one place (chalicelib/api/routing.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class DomainError(Exception):
    """Base of every expected failure. `code` is stable and machine-readable; `details` is JSON-safe."""

    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    """The request is malformed: each bad field is named."""

    code = "validation_error"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("The request has invalid fields.")
        self.problems = problems

    @classmethod
    def single(cls, field: str, message: str) -> InvalidInput:
        return cls([FieldProblem(field, message)])


class NotAuthenticated(DomainError):
    code = "not_authenticated"


class NotAllowed(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"

    def __init__(self, resource: str, resource_id: str) -> None:
        super().__init__(f"{resource} not found.", resource=resource, id=resource_id)


class Conflict(DomainError):
    code = "conflict"


class Unprocessable(DomainError):
    code = "unprocessable"


class TooManyAttempts(DomainError):
    """Refused for a while after repeated failures (guessing a secret); retrying before
    `retry_after_seconds` is pointless, so the API also sends it as Retry-After."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_after_seconds: int, **details: Any) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds, **details)
        self.retry_after_seconds = retry_after_seconds


class UpstreamFailure(DomainError):
    """A provider we depend on (Stripe) failed; nothing was kept half-done and the request can be retried."""

    code = "upstream_failure"
