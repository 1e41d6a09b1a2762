"""Explicit lifecycles: a table of allowed transitions, one way to move, a history.

Every model with a `status` field declares

- `TRANSITIONS = {from: {to, ...}}`, every choice of its status a key;
- optionally `STATUS_TIMESTAMPS = {to: "field_name"}`, the field stamped with
  the time the object reaches that status (`paid_at`, `shipped_at`, ...);
- a concrete `core.models.StatusChange` subclass with a foreign key to it and
  `related_name="history"`: that is where its changes are recorded, found
  through the relation, so there is no registry to keep in sync.

Services change a status only through this module:

- `transition(obj, to, ...)` checks the table, stamps the time, saves the
  status, the stamp and the `also` fields in one UPDATE, and records one
  history row (who, when, why, from, to). Anything not in the table is refused
  with 409 `invalid_transition` and nothing is written.
- `transition_all(objs, to, ...)` does the same for several rows of one model
  moving together (the fulfilments of an order) in a constant number of queries.
- `record_creation(*objs, ...)` records the first history row of new objects,
  from "" to their initial status; every service that creates one calls it.

The caller holds the lock: it has loaded the rows with `select_for_update()`
(through its app's `queries.lock_*` helper, or a parent row that serialises
every change to them, like an order for its fulfilments and payments) in the
transaction of its request or job. Nothing here locks or commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence, Set
from typing import TYPE_CHECKING, Any

from kinshop.core import clock
from kinshop.core.errors import Conflict

if TYPE_CHECKING:
    from django.db import models

    from kinshop.core.models import StatusChange

# What a model's `TRANSITIONS` is declared as. Its keys are usually the members
# of a `TextChoices`, which are `str`s; declaring the table with this type lets
# it be passed where a mapping keyed by `str` is expected.
Transitions = Mapping[str, Set[str]]
# What a model's `STATUS_TIMESTAMPS` is declared as: status -> field name.
StatusTimestamps = Mapping[str, str]


def ensure_transition(
    transitions: Transitions, current: str, target: str, *, what: str = "object"
) -> None:
    """Refuse a move the table does not allow. `transition()` calls it; a service
    may call it first to refuse before doing other work."""
    if target not in transitions.get(current, frozenset()):
        raise Conflict(
            f"A {what} cannot go from '{current}' to '{target}'.",
            code="invalid_transition",
            current=current,
            target=target,
        )


def check_transition(obj: models.Model, to: str) -> None:
    """Refuse `obj` moving to `to` as `transition()` would, without writing."""
    model = type(obj)
    ensure_transition(_transitions(model), _status(obj), to, what=_what(model))


def transition(
    obj: models.Model,
    to: str,
    *,
    actor: Any = None,
    reason: str = "",
    at: dt.datetime | None = None,
    also: Iterable[str] = (),
) -> StatusChange:
    """Move `obj` (locked by the caller) to `to`: two queries, one UPDATE of
    status + stamp + `also`, one INSERT of its history row."""
    check_transition(obj, to)
    at = at or clock.now()
    # The history row takes the status being left before the object changes.
    change = _history_row(obj, to, actor=actor, reason=reason, at=at)
    fields = _prepare(obj, to, at, also)
    obj.status = to  # type: ignore[attr-defined]
    obj.save(update_fields=fields)
    change.save(force_insert=True)
    return change


def transition_all(
    objs: Sequence[models.Model],
    to: str,
    *,
    actor: Any = None,
    reason: str = "",
    at: dt.datetime | None = None,
    also: Iterable[str] = (),
) -> list[StatusChange]:
    """Move several rows of one model (locked by the caller) to `to` together:
    every move is checked before anything is written, then one `bulk_update`
    and one `bulk_create`, whatever the number of rows. No rows, no queries."""
    if not objs:
        return []
    model = type(objs[0])
    if any(type(obj) is not model for obj in objs):
        raise TypeError("transition_all() moves rows of one model.")
    for obj in objs:
        check_transition(obj, to)
    at = at or clock.now()
    also = tuple(also)
    changes = [_history_row(obj, to, actor=actor, reason=reason, at=at) for obj in objs]
    fields: list[str] = []
    for obj in objs:
        fields = _prepare(obj, to, at, also)
        obj.status = to  # type: ignore[attr-defined]
    model._default_manager.bulk_update(objs, fields)
    return _history_model(model)._default_manager.bulk_create(changes)


def record_creation(
    *objs: models.Model, actor: Any = None, reason: str = "", at: dt.datetime | None = None
) -> list[StatusChange]:
    """Record the first history row (from "" to its initial status) of objects
    just created, all of one model: one INSERT whatever their number."""
    if not objs:
        return []
    model = type(objs[0])
    if any(type(obj) is not model or obj.pk is None for obj in objs):
        raise TypeError("record_creation() records saved rows of one model.")
    at = at or clock.now()
    history = _history_model(model)
    changes = [
        _history_row(obj, _status(obj), actor=actor, reason=reason, at=at, previous="")
        for obj in objs
    ]
    return history._default_manager.bulk_create(changes)


# ---- what a model declares ------------------------------------------------------


def _transitions(model: type[models.Model]) -> Transitions:
    transitions = getattr(model, "TRANSITIONS", None)
    if transitions is None:
        raise TypeError(f"{model.__name__} declares no TRANSITIONS.")
    return transitions


def _status(obj: models.Model) -> str:
    return str(obj.status)  # type: ignore[attr-defined]


def _what(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name)


def history_relation(model: type[models.Model]) -> tuple[type[StatusChange], str]:
    """The history model of `model` and the name of its foreign key to `model`."""
    from django.db.models import ManyToOneRel

    from kinshop.core.models import StatusChange

    relation = model._meta.get_field("history")
    related_model = relation.related_model
    if not (
        isinstance(relation, ManyToOneRel)
        and isinstance(related_model, type)
        and issubclass(related_model, StatusChange)
    ):
        raise TypeError(f"{model.__name__}.history is not a StatusChange relation.")
    return related_model, relation.field.name


def _history_model(model: type[models.Model]) -> type[StatusChange]:
    return history_relation(model)[0]


def _prepare(obj: models.Model, to: str, at: dt.datetime, also: Iterable[str]) -> list[str]:
    fields = ["status"]
    stamp = getattr(type(obj), "STATUS_TIMESTAMPS", {}).get(to)
    if stamp:
        setattr(obj, stamp, at)
        fields.append(stamp)
    fields.extend(field for field in also if field not in fields)
    return fields


def _history_row(
    obj: models.Model,
    to: str,
    *,
    actor: Any,
    reason: str,
    at: dt.datetime,
    previous: str | None = None,
) -> StatusChange:
    history, subject = history_relation(type(obj))
    return history(
        **{subject: obj},
        from_status=_status(obj) if previous is None else previous,
        to_status=to,
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        reason=(reason or "")[:200],
        at=at,
    )
