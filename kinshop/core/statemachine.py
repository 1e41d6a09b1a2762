"""Explicit lifecycles: a table of allowed transitions and one check.

Every model with a lifecycle declares `TRANSITIONS = {from: {to, ...}}`; the
service that moves it calls `ensure_transition` and records a history row with
who, when and why. Anything not in the table is refused with
409 `invalid_transition`.
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from kinshop.core.errors import Conflict

# What a model's `TRANSITIONS` is declared as. Its keys are usually the members
# of a `TextChoices`, which are `str`s; declaring the table with this type lets
# it be passed where a mapping keyed by `str` is expected.
Transitions = Mapping[str, Set[str]]


def ensure_transition(
    transitions: Transitions, current: str, target: str, *, what: str = "object"
) -> None:
    if target not in transitions.get(current, frozenset()):
        raise Conflict(
            f"A {what} cannot go from '{current}' to '{target}'.",
            code="invalid_transition",
            current=current,
            target=target,
        )
