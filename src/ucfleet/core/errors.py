"""Domain errors raised by services; the API, the portal and the CLI translate them.

- NotFound: outside the caller's scope or absent (404; R1 never confirms foreign ids).
- Forbidden: the caller's profile may not do this at all (403).
- Conflict: the object's state forbids it (409), e.g. deleting a task in progress.
- Invalid: bad input; carries field errors (400).
"""

from __future__ import annotations


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Conflict(DomainError):
    code = "conflict"


class Invalid(DomainError):
    code = "invalid"

    def __init__(
        self, message: str, *, errors: dict[str, list[str]] | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.errors = errors or {}

    @classmethod
    def field(cls, field: str, message: str, *, code: str | None = None) -> Invalid:
        return cls(message, errors={field: [message]}, code=code)
