"""One error hierarchy for projchain: each error knows its code and HTTP status.

Routes raise these; one exception handler turns them into ``{"error", "detail"}``.
Chain failures are decoded into them at the chain boundary (``node_api.chain``).
"""

from __future__ import annotations


class ProjchainError(Exception):
    """Base of every error the node reports to a client or an operator."""

    code: str = "internal_error"
    status: int = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def to_json(self) -> dict[str, str]:
        """The error as the API's JSON body."""
        return {"error": self.code, "detail": self.detail}


class ValidationError(ProjchainError, ValueError):
    """A field of the request is malformed or out of range."""

    code = "invalid_input"
    status = 422

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field


class BadRequestError(ProjchainError, ValueError):
    """The request as a whole cannot be understood."""

    code = "bad_request"
    status = 400


class AuthenticationError(ProjchainError, PermissionError):
    """No token, or a token that is unknown or revoked."""

    code = "unauthenticated"
    status = 401


class ForbiddenError(ProjchainError, PermissionError):
    """The caller's organisation may not do this."""

    code = "forbidden"
    status = 403


class NotFoundError(ProjchainError, LookupError):
    """The project, record or document does not exist (or is not visible)."""

    code = "not_found"
    status = 404


class ConflictError(ProjchainError):
    """The change is illegal in the subject's current state."""

    code = "conflict"
    status = 409


class PayloadTooLargeError(ProjchainError):
    """The body or document exceeds the configured limit."""

    code = "payload_too_large"
    status = 413


class RateLimitedError(ProjchainError):
    """Too many failed attempts; try again later."""

    code = "rate_limited"
    status = 429


class ChainError(ProjchainError):
    """The chain could not be reached or answered unexpectedly."""

    code = "chain_unavailable"
    status = 503


class ChainCapacityError(ProjchainError):
    """The embedded development chain reached the memory it may use: writes are refused."""

    code = "chain_memory_limit"
    status = 503


class ChainRevertError(ProjchainError):
    """The contract refused a transaction; ``name`` is its custom error."""

    code = "chain_revert"
    status = 409

    def __init__(self, name: str, args: tuple[object, ...], detail: str) -> None:
        super().__init__(detail)
        self.name = name
        self.args_ = args


class ConfigurationError(ProjchainError):
    """The node's settings are unusable (e.g. a dev key outside development)."""

    code = "configuration_error"
    status = 500
