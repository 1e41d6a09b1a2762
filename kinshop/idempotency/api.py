"""The one way an API operation takes an `Idempotency-Key`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from ninja import Schema, Status

from kinshop.idempotency.services import run_once


def idempotent(
    request: HttpRequest,
    *,
    operation: str,
    payload: Schema,
    schema: type[Schema],
    status: int,
    action: Callable[[], dict[str, Any]],
    then: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Status:
    """Run a creating POST once per `Idempotency-Key`, in the request's one
    transaction: `action` calls the service and returns the answer's fields,
    kept as `schema` JSON so that a repeat answers exactly the same. A repeat
    with another body is 409 `idempotency_key_reused`; without a key the action
    simply runs. `then`, when given, runs after the commit, outside any
    transaction (where a provider may be called), on the kept answer, and
    returns the fields to answer with, for the first request and its repeats."""

    def answer() -> tuple[int, Any]:
        return status, schema(**action()).model_dump(mode="json")

    code, body = run_once(  # in its own transaction, the request's one
        user=request.auth,  # type: ignore[attr-defined]
        operation=operation,
        key=request.headers.get("Idempotency-Key"),
        payload=payload.dict(),
        action=answer,
    )
    if then is not None and 200 <= code < 300:
        body = schema(**then(body)).model_dump(mode="json")
    return Status(code, body)
