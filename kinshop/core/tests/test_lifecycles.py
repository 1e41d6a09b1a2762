"""Every lifecycle goes through `core.statemachine`: each model with a `status`
declares its transitions and keeps a history, and no code changes a status any
other way. Then the mechanism itself: refusal, history, time stamps, queries."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from kinshop import testing
from kinshop.catalog.models import Supplier, SupplierStatusChange
from kinshop.core.errors import Conflict
from kinshop.core.models import StatusChange
from kinshop.core.statemachine import (
    history_relation,
    record_creation,
    transition,
    transition_all,
)
from kinshop.orders import services as orders
from kinshop.orders.models import Fulfilment, FulfilmentStatusChange, Order, OrderStatusChange

pytestmark = pytest.mark.django_db

KINSHOP = Path(__file__).resolve().parents[2]
# The one module allowed to write a status, and what is not application code.
EXEMPT = {KINSHOP / "core" / "statemachine.py"}
CREATION_FORM = "record_creation"


def _models_with_status() -> list[type[models.Model]]:
    """Kinshop's own models with a status (a library's, such as the task queue's
    result rows, follow the library's lifecycle)."""
    found = []
    for model in apps.get_models():
        if not model.__module__.startswith("kinshop."):
            continue
        try:
            model._meta.get_field("status")
        except Exception:
            continue
        found.append(model)
    return found


STATUS_MODELS = _models_with_status()


def test_the_walk_finds_every_lifecycle():
    names = {model.__name__ for model in STATUS_MODELS}
    assert {
        "Order",
        "Fulfilment",
        "Refund",
        "Payment",
        "ProviderRefund",
        "Withdrawal",
        "Supplier",
        "GroupBuy",
        "Group",
        "CommissionHold",
        "Complaint",
        "FraudFlag",
        "LiveRoom",
    } == names


@pytest.mark.parametrize("model", STATUS_MODELS, ids=lambda model: model._meta.label)
def test_every_status_model_declares_its_transitions(model):
    choices = {value for value, _ in model._meta.get_field("status").choices}
    transitions = getattr(model, "TRANSITIONS", None)
    assert transitions is not None, f"{model.__name__} declares no TRANSITIONS"
    assert set(transitions) == choices, "every status is a key, and only statuses"
    for source, targets in transitions.items():
        assert set(targets) <= choices, f"{source} leads to an unknown status"
        assert source not in targets, f"{source} leads to itself"
    for status, field in getattr(model, "STATUS_TIMESTAMPS", {}).items():
        assert status in choices
        assert isinstance(model._meta.get_field(field), models.DateTimeField)


@pytest.mark.parametrize("model", STATUS_MODELS, ids=lambda model: model._meta.label)
def test_every_status_model_keeps_a_history(model):
    history, subject = history_relation(model)
    assert issubclass(history, StatusChange)
    assert not history._meta.abstract
    assert history._meta.get_field(subject).related_model is model


# ---- no status changes outside the state machine ---------------------------------


def _application_modules() -> list[Path]:
    return sorted(
        path
        for path in KINSHOP.rglob("*.py")
        if path not in EXEMPT and not {"migrations", "tests"} & set(path.parts)
    )


def _is_status_key(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value == "status"


def _names_status(node: ast.AST | None) -> bool:
    """A field list (`["status", ...]`) or a dict (`{"status": ...}`) naming status."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return any(_is_status_key(element) for element in node.elts)
    if isinstance(node, ast.Dict):
        return any(_is_status_key(key) for key in node.keys)
    return False


def _passes_status(call: ast.Call) -> bool:
    """`status=...`, `**{"status": ...}` or `defaults={"status": ...}`."""
    for keyword in call.keywords:
        if keyword.arg == "status":
            return True
        if keyword.arg is None and _names_status(keyword.value):
            return True
        if keyword.arg in ("defaults", "create_defaults") and _names_status(keyword.value):
            return True
    return False


def _assigned_attributes(target: ast.AST):
    if isinstance(target, ast.Attribute):
        yield target
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _assigned_attributes(element)
    elif isinstance(target, ast.Starred):
        yield from _assigned_attributes(target.value)


def _status_model_names(tree: ast.Module) -> set[str]:
    """The names a module binds to a status model by importing it."""
    labels = {model.__name__ for model in STATUS_MODELS}
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith(".models"):
            bound |= {alias.asname or alias.name for alias in node.names if alias.name in labels}
    return bound


def _created_model(call: ast.Call, model_names: set[str]) -> str | None:
    """The status model that `Model(...)` or `Model.objects.create/bulk_create/
    get_or_create/update_or_create(...)` creates, if the call is one of those."""
    function = call.func
    if isinstance(function, ast.Name):
        return function.id if function.id in model_names else None
    if (
        isinstance(function, ast.Attribute)
        and function.attr in ("create", "bulk_create", "get_or_create", "update_or_create")
        and isinstance(function.value, ast.Attribute)
        and isinstance(function.value.value, ast.Name)
        and function.value.value.id in model_names
    ):
        return function.value.value.id
    return None


def _calls(function: ast.AST, name: str) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            called = node.func
            if (isinstance(called, ast.Name) and called.id == name) or (
                isinstance(called, ast.Attribute) and called.attr == name
            ):
                return True
    return False


def status_writes(source: str) -> list[tuple[int, str]]:
    """Every way the code in `source` could change a status, by line."""
    tree = ast.parse(source)
    model_names = _status_model_names(tree)
    found: list[tuple[int, str]] = []
    functions = [
        node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    records_creation = {
        id(node)
        for function in functions
        if _calls(function, CREATION_FORM)
        for node in ast.walk(function)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for attribute in _assigned_attributes(target):
                    if attribute.attr == "status":
                        found.append((node.lineno, "assigns .status"))
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
        if name == "setattr" and len(node.args) >= 2 and _is_status_key(node.args[1]):
            found.append((node.lineno, 'setattr(..., "status", ...)'))
        elif name in ("update", "update_or_create", "get_or_create") and _passes_status(node):
            found.append((node.lineno, f".{name}(status=...)"))
        elif name == "bulk_update":
            fields = node.args[1] if len(node.args) >= 2 else None
            fields = next((k.value for k in node.keywords if k.arg == "fields"), fields)
            if _names_status(fields):
                found.append((node.lineno, 'bulk_update(..., ["status"])'))
        elif name == "create" and _passes_status(node) and id(node) not in records_creation:
            found.append((node.lineno, ".create(status=...) without record_creation()"))
        created = _created_model(node, model_names)
        if created and id(node) not in records_creation:
            found.append((node.lineno, f"creates a {created} without record_creation()"))
    return found


def test_no_module_changes_a_status_outside_the_state_machine():
    modules = _application_modules()
    assert KINSHOP / "orders" / "services.py" in modules
    offences = [
        f"{path.relative_to(KINSHOP.parent)}:{line}: {what}"
        for path in modules
        for line, what in status_writes(path.read_text(encoding="utf-8"))
    ]
    assert offences == []


@pytest.mark.parametrize(
    "source",
    [
        "def f(order):\n    order.status = 'paid'",
        "def f(order):\n    order.status, order.paid_at = 'paid', now",
        "def f(order):\n    setattr(order, 'status', 'paid')",
        "def f(order):\n    order.fulfilments.update(status='cancelled')",
        "def f(qs):\n    qs.update(**{'status': 'cancelled'})",
        "def f(qs):\n    qs.update_or_create(pk=1, defaults={'status': 'paid'})",
        "def f(rows):\n    Order.objects.bulk_update(rows, ['status', 'paid_at'])",
        "def f(rows):\n    Order.objects.bulk_update(rows, fields=('status',))",
        "def f():\n    Refund.objects.create(status='approved')",
        "from kinshop.orders.models import Order\ndef f():\n    Order.objects.create(total=1)",
        "from kinshop.payments.models import Payment as P\ndef f():\n    P(amount=1).save()",
    ],
)
def test_the_scan_sees_each_way_of_writing_a_status(source):
    assert status_writes(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "def f(request):\n    return render(request, 'x.html', {}, status=422)",
        "def f():\n    return HttpResponse('', status=409)",
        "def f():\n    return Order.objects.filter(status='paid').update(note='')",
        "def f(order):\n    status = order.status",
        "def f(context):\n    context.update({'state': 1})",
        "from kinshop.orders.models import Order\n"
        "def f():\n    order = Order.objects.create(total=1)\n    record_creation(order)",
        "from kinshop.demo.data import Supplier\ndef f():\n    Supplier(name='x')",
    ],
)
def test_the_scan_passes_what_is_not_a_status_write(source):
    assert status_writes(source) == []


# ---- the mechanism ---------------------------------------------------------------


@pytest.fixture
def pending_supplier(db):
    supplier, _ = testing.make_supplier(verified=False)
    return supplier


def test_a_refused_transition_raises_and_writes_nothing(pending_supplier, operator):
    supplier = Supplier.objects.get(pk=pending_supplier.pk)
    history = SupplierStatusChange.objects.count()

    with pytest.raises(Conflict) as refused:
        transition(supplier, Supplier.Status.SUSPENDED, actor=operator, reason="no")

    assert refused.value.code == "invalid_transition"
    assert refused.value.message == "A supplier cannot go from 'pending' to 'suspended'."
    assert supplier.status == Supplier.Status.PENDING
    supplier.refresh_from_db()
    assert supplier.status == Supplier.Status.PENDING
    assert SupplierStatusChange.objects.count() == history


def test_a_transition_records_who_when_why_from_and_to(pending_supplier, operator):
    supplier = Supplier.objects.get(pk=pending_supplier.pk)
    at = dt.datetime(2026, 5, 1, 8, 30, tzinfo=dt.UTC)

    with CaptureQueriesContext(connection) as queries:
        change = transition(
            supplier, Supplier.Status.VERIFIED, actor=operator, reason="licence checked", at=at
        )

    assert len(queries) == 2  # one UPDATE, one INSERT
    row = supplier.history.get(pk=change.pk)
    assert (row.from_status, row.to_status, row.actor, row.reason, row.at) == (
        "pending",
        "verified",
        operator,
        "licence checked",
        at,
    )
    supplier.refresh_from_db()
    assert supplier.status == Supplier.Status.VERIFIED
    assert supplier.verified_at == at  # the stamp declared in STATUS_TIMESTAMPS


def test_a_transition_saves_the_fields_it_is_told_to(pending_supplier, operator):
    supplier = Supplier.objects.get(pk=pending_supplier.pk)
    supplier.description = "checked"
    supplier.name = "not saved"

    transition(supplier, Supplier.Status.VERIFIED, actor=operator, also=("description",))

    supplier.refresh_from_db()
    assert (supplier.description, supplier.status) == ("checked", "verified")
    assert supplier.name != "not saved"


def test_the_reason_is_cut_to_fit(pending_supplier, operator):
    supplier = Supplier.objects.get(pk=pending_supplier.pk)
    change = transition(supplier, Supplier.Status.REJECTED, actor=operator, reason="x" * 500)
    assert change.reason == "x" * 200


def test_creating_records_the_first_row(pending_supplier):
    first = pending_supplier.history.get()
    assert (first.from_status, first.to_status, first.reason) == ("", "pending", "applied")


def _order_from(suppliers: int) -> Order:
    buyer = testing.make_user()
    skus = []
    for _ in range(suppliers):
        _, staff = testing.make_supplier()
        skus.append(testing.make_product(staff=staff).skus.get())
    shop = testing.make_shop(products=[sku.product for sku in skus])
    return orders.place_order(
        buyer=buyer,
        shop=shop,
        lines=[orders.LineRequest(sku_id=sku.id, quantity=1) for sku in skus],
        address=orders.Address(name="王小明", phone="13800138000", region="杭州", detail="1 号"),
    )


@pytest.mark.parametrize("suppliers", [1, 3])
def test_moving_rows_together_costs_two_queries_whatever_their_number(db, suppliers):
    order = _order_from(suppliers)
    parts = list(order.fulfilments.all())
    assert [part.history.get().to_status for part in parts] == ["waiting"] * suppliers
    at = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)

    with CaptureQueriesContext(connection) as queries:
        changes = transition_all(parts, Fulfilment.Status.CANCELLED, reason="test", at=at)

    assert len(queries) == 2  # one bulk_update, one bulk_create
    assert len(changes) == suppliers
    assert (
        list(
            FulfilmentStatusChange.objects.filter(fulfilment__order=order, at=at).values_list(
                "from_status", "to_status", "reason"
            )
        )
        == [("waiting", "cancelled", "test")] * suppliers
    )
    assert set(order.fulfilments.values_list("status", flat=True)) == {"cancelled"}


def test_moving_rows_together_refuses_all_if_one_cannot_move(db):
    order = _order_from(2)
    parts = list(order.fulfilments.all())
    transition(parts[0], Fulfilment.Status.CANCELLED)
    history = FulfilmentStatusChange.objects.count()

    with pytest.raises(Conflict) as refused:
        transition_all(parts, Fulfilment.Status.TO_SHIP)

    assert refused.value.code == "invalid_transition"
    assert FulfilmentStatusChange.objects.count() == history
    assert list(order.fulfilments.values_list("status", flat=True)) == ["cancelled", "waiting"]


def test_nothing_to_move_or_record_costs_nothing(db):
    with CaptureQueriesContext(connection) as queries:
        assert transition_all([], Fulfilment.Status.CANCELLED) == []
        assert record_creation() == []
    assert len(queries) == 0


def test_an_order_placed_then_cancelled_tells_its_whole_story(db):
    order = _order_from(2)
    orders.cancel_order(user=order.buyer, order_id=order.pk, reason="changed my mind")

    assert list(
        OrderStatusChange.objects.filter(order=order).values_list("from_status", "to_status")
    ) == [("", "pending_payment"), ("pending_payment", "cancelled")]
    order.refresh_from_db()
    for part in order.fulfilments.all():
        assert [(c.from_status, c.to_status, c.reason, c.at) for c in part.history.all()] == [
            ("", "waiting", "placed", order.created_at),
            ("waiting", "cancelled", "changed my mind", order.cancelled_at),
        ]
