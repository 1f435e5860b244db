"""Console forms → the API's own request models, and writes made through the API's own routes.

A console form is validated by the model of the API endpoint it stands for (``ApprovalIn``,
``EventIn`` …) and sent through that endpoint's function, so the console has no rules of
its own: what the API refuses, the console refuses, with the same status. The officer is
then recorded beside the record (off-chain metadata).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Any, TypeVar

import pydantic
from fastapi import Response
from starlette.datastructures import FormData, UploadFile

from node_api.errors import ValidationError
from node_api.ledger.officers import Officers, Session

M = TypeVar("M", bound=pydantic.BaseModel)
MAX_TEXT = 5000  # characters of one form field; the models' own limits are smaller still


def text(form: FormData, name: str) -> str:
    """A text field of a form ('' when absent or a file)."""
    value = form.get(name)
    return value[:MAX_TEXT].strip() if isinstance(value, str) else ""


def fields(form: FormData, names: tuple[str, ...]) -> dict[str, Any]:
    """The named text fields that were filled in (empty ones are left to the model's defaults)."""
    return {n: text(form, n) for n in names if text(form, n)}


def upload(form: FormData, name: str) -> UploadFile | None:
    """A file field of a form, if a file was chosen."""
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


def model(cls: type[M], data: dict[str, Any]) -> M:
    """The API's request model of ``data``; its first error as a 422 naming the field."""
    try:
        return cls.model_validate(data)
    except pydantic.ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "form"
        raise ValidationError(where, str(first["msg"]).removeprefix("Value error, ")) from e


async def sealed(
    officers: Officers, session: Session, action: str, call: Awaitable[Response]
) -> dict[str, Any]:
    """Sends a write through its API route and names the officer beside the record(s) it made."""
    response = await call
    body: dict[str, Any] = json.loads(bytes(response.body))
    for key in ("uid", "commitment_uid"):
        if body.get(key):
            officers.attribute(str(body[key]), session.officer, action)
    return body
