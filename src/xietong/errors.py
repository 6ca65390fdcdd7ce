"""Domain errors. Each carries a stable code for API clients and a Chinese message for people, and
maps to one HTTP status, so that views and the API never have to guess."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class ValidationFailed(DomainError):
    status = 400
    code = "invalid"


class NotAllowed(DomainError):
    """The user's duty or unit does not permit the act (403)."""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """Also used for cases the user may not see, so that their existence does not leak."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The act does not fit the case's current state, or another user changed it first (409)."""

    status = 409
    code = "conflict"
