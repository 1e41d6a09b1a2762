"""Explicit lifecycles: a table of allowed transitions and one check.

Every model with a lifecycle declares `TRANSITIONS = {from: {to, ...}}`; the
service that moves it calls `ensure_transition` and records a history row with
who, when and why. Anything not in the table is refused with
409 `invalid_transition`.
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from kinshop.core.errors import Conflict


def ensure_transition(
    transitions: Mapping[str, Set[str]], current: str, target: str, *, what: str = "object"
) -> None:
    if target not in transitions.get(current, frozenset()):
        raise Conflict(
            f"A {what} cannot go from '{current}' to '{target}'.",
            code="invalid_transition",
            current=current,
            target=target,
        )
