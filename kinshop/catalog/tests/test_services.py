"""The supply market's services, called directly: each rule, each refusal with
its error code, and the query counts of the stock operations on the order path."""

from __future__ import annotations

import pytest

from kinshop import testing
from kinshop.catalog import services
from kinshop.catalog.models import SKU, Product, ProductImage, Supplier, SupplierStatusChange
from kinshop.core.errors import Conflict, Forbidden, InvalidInput, NotFound

pytestmark = pytest.mark.django_db


def new_sku(code: str = "NUT-500", **overrides) -> services.NewSku:
    fields = {
        "code": code,
        "name": "500 g",
        "supply_price": 6000,
        "retail_min": 8000,
        "retail_max": 12000,
        "suggested_retail_price": 9900,
        "stock": 100,
    }
    return services.NewSku(**{**fields, **overrides})


def create(staff, *, skus=None, **overrides) -> Product:
    arguments = {"title": "Hickory nuts", "commission_rate_bp": 1000, **overrides}
    skus = [new_sku()] if skus is None else skus
    return services.create_product(user=staff, skus=skus, **arguments)


def product_with_skus(staff, count: int, stock: int = 10) -> list[SKU]:
    product = create(staff, skus=[new_sku(f"S{n}", stock=stock) for n in range(count)])
    return list(product.skus.order_by("pk"))


def stock_of(skus) -> list[int]:
    return list(SKU.objects.filter(pk__in=[s.pk for s in skus]).order_by("pk").values_list("stock", flat=True))  # fmt: skip


# apply_supplier ---------------------------------------------------------------------------


def test_applying_creates_a_pending_supplier_with_the_applicant_as_owner():
    user = testing.make_user()

    supplier = services.apply_supplier(user=user, name="  Qinglan Tea  ", license_no=" L-1 ")

    assert (supplier.name, supplier.license_no, supplier.status) == (
        "Qinglan Tea",
        "L-1",
        "pending",
    )
    assert supplier.verified_at is None
    assert list(supplier.memberships.values_list("user_id", "is_owner")) == [(user.id, True)]
    assert list(supplier.history.values_list("from_status", "to_status", "actor_id", "reason")) == [
        ("", "pending", user.id, "applied")
    ]


@pytest.mark.parametrize(("name", "license_no"), [("", "L-1"), ("Tea", "  "), (" ", "")])
def test_applying_without_a_name_or_licence_is_refused(name, license_no):
    with pytest.raises(InvalidInput) as refused:
        services.apply_supplier(user=testing.make_user(), name=name, license_no=license_no)

    assert refused.value.code == "missing_field"
    assert Supplier.objects.count() == 0


def test_a_person_works_for_one_supplier_only():
    _, staff = testing.make_supplier(verified=False)

    with pytest.raises(Conflict) as refused:
        services.apply_supplier(user=staff, name="Second", license_no="L-2")

    assert refused.value.code == "already_supplier_staff"
    assert Supplier.objects.count() == 1


# change_supplier_status -----------------------------------------------------------------


def test_an_operator_verifies_a_supplier_and_the_change_is_kept():
    supplier, staff = testing.make_supplier(verified=False)
    operator = testing.make_operator()

    verified = services.verify_supplier(supplier=supplier, actor=operator, reason="licence ok")

    assert verified.status == "verified"
    assert verified.verified_at is not None
    supplier.refresh_from_db()
    assert (supplier.status, supplier.verified_at) == ("verified", verified.verified_at)
    assert list(supplier.history.values_list("from_status", "to_status", "actor_id", "reason")) == [
        ("", "pending", staff.id, "applied"),
        ("pending", "verified", operator.id, "licence ok"),
    ]


def test_suspending_keeps_the_verification_date():
    supplier, _ = testing.make_supplier()
    verified_at = supplier.verified_at

    suspended = services.change_supplier_status(
        supplier=supplier, to="suspended", actor=testing.make_operator(), reason="complaints"
    )

    assert (suspended.status, suspended.verified_at) == ("suspended", verified_at)


@pytest.mark.parametrize("actor", ["nobody", "staff", "customer"])
def test_only_an_operator_changes_a_supplier_status(actor):
    supplier, staff = testing.make_supplier(verified=False)
    who = {"nobody": None, "staff": staff, "customer": testing.make_user()}[actor]

    with pytest.raises(Forbidden) as refused:
        services.verify_supplier(supplier=supplier, actor=who)

    assert refused.value.code == "forbidden"
    supplier.refresh_from_db()
    assert supplier.status == "pending"
    assert SupplierStatusChange.objects.filter(supplier=supplier).count() == 1


@pytest.mark.parametrize(
    ("start", "target"),
    [("pending", "suspended"), ("verified", "verified"), ("verified", "rejected")],
)
def test_a_transition_outside_the_table_is_refused(start, target):
    supplier, _ = testing.make_supplier(verified=start == "verified")
    changes = SupplierStatusChange.objects.filter(supplier=supplier).count()

    with pytest.raises(Conflict) as refused:
        services.change_supplier_status(supplier=supplier, to=target, actor=testing.make_operator())

    assert refused.value.code == "invalid_transition"
    assert refused.value.details == {"current": start, "target": target}
    assert SupplierStatusChange.objects.filter(supplier=supplier).count() == changes


# create_product --------------------------------------------------------------------------


def test_a_verified_supplier_lists_a_product_with_its_skus():
    supplier, staff = testing.make_supplier()

    product = create(
        staff,
        title="  Hickory nuts  ",
        skus=[new_sku("A", name=" 250 g ", stock=3), new_sku(" B ", name="", stock=0)],
        commission_rate_bp=2000,
    )

    assert (product.supplier_id, product.title, product.commission_rate_bp) == (
        supplier.id,
        "Hickory nuts",
        2000,
    )
    assert list(
        product.skus.order_by("code").values_list(
            "supplier_id", "code", "name", "supply_price", "retail_min", "retail_max",
            "suggested_retail_price", "stock", "currency",
        )
    ) == [
        (supplier.id, "A", "250 g", 6000, 8000, 12000, 9900, 3, "CNY"),
        (supplier.id, "B", "B", 6000, 8000, 12000, 9900, 0, "CNY"),
    ]  # fmt: skip


def test_a_product_keeps_its_images_in_order():
    _, staff = testing.make_supplier()

    product = create(staff, images=[("front.jpg", b"front"), ("back.jpg", b"back")])

    images = list(ProductImage.objects.filter(product=product))
    assert [(image.position, image.supplier_id) for image in images] == [
        (0, product.supplier_id),
        (1, product.supplier_id),
    ]
    assert [image.image.read() for image in images] == [b"front", b"back"]


def test_someone_who_is_not_supplier_staff_cannot_list():
    with pytest.raises(Forbidden) as refused:
        create(testing.make_user())

    assert refused.value.code == "not_supplier_staff"
    assert Product.objects.count() == 0


def test_an_unverified_supplier_cannot_list():
    _, staff = testing.make_supplier(verified=False)

    with pytest.raises(Forbidden) as refused:
        create(staff)

    assert refused.value.code == "supplier_not_verified"
    assert Product.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"title": "   "}, "missing_title"),
        ({"commission_rate_bp": -1}, "commission_rate_out_of_range"),
        ({"commission_rate_bp": 3001}, "commission_rate_out_of_range"),
        ({"skus": []}, "missing_skus"),
        ({"skus": [new_sku("A"), new_sku(" A ")]}, "duplicate_sku_code"),
        ({"skus": [new_sku("  ")]}, "duplicate_sku_code"),
        ({"skus": [new_sku(stock=-1)]}, "negative_stock"),
        ({"skus": [new_sku(supply_price=-1)]}, "negative_price"),
        ({"skus": [new_sku(retail_min=12001)]}, "band_inverted"),
        ({"skus": [new_sku(suggested_retail_price=12001)]}, "suggested_price_out_of_band"),
        # at 80.00 a 10 % commission leaves 80.00 − 75.00 − 8.00 < 0
        ({"skus": [new_sku(supply_price=7500)]}, "band_below_cost"),
    ],
)
def test_a_product_that_cannot_work_is_refused(overrides, code):
    _, staff = testing.make_supplier()

    with pytest.raises(InvalidInput) as refused:
        create(staff, **overrides)

    assert refused.value.code == code
    assert (Product.objects.count(), SKU.objects.count()) == (0, 0)


def test_a_pricing_refusal_names_the_sku():
    _, staff = testing.make_supplier()

    with pytest.raises(InvalidInput) as refused:
        create(staff, skus=[new_sku("GOOD"), new_sku("BAD", retail_min=13000)])

    assert (refused.value.code, refused.value.details) == ("band_inverted", {"sku": "BAD"})


def test_a_sku_code_is_unique_within_its_supplier_only():
    _, staff = testing.make_supplier()
    _, other_staff = testing.make_supplier()
    create(staff, skus=[new_sku("NUT")])

    create(other_staff, skus=[new_sku("NUT")])  # another supplier may use it
    with pytest.raises(Conflict) as refused:
        create(staff, skus=[new_sku("NUT")])

    assert refused.value.code == "sku_code_taken"
    assert SKU.objects.filter(code="NUT").count() == 2


# adjust_stock / take_stock ---------------------------------------------------------------


def test_staff_add_and_remove_stock():
    _, staff = testing.make_supplier()
    [sku] = product_with_skus(staff, 1, stock=10)

    assert services.adjust_stock(user=staff, sku_id=sku.id, delta=5).stock == 15
    assert services.adjust_stock(user=staff, sku_id=sku.id, delta=-15).stock == 0
    assert services.adjust_stock(user=staff, sku_id=sku.id, delta=0).stock == 0
    assert stock_of([sku]) == [0]


def test_stock_never_goes_below_zero():
    _, staff = testing.make_supplier()
    [sku] = product_with_skus(staff, 1, stock=10)

    with pytest.raises(Conflict) as refused:
        services.adjust_stock(user=staff, sku_id=sku.id, delta=-11)

    assert refused.value.code == "out_of_stock"
    assert stock_of([sku]) == [10]


def test_stock_never_goes_above_the_column_limit():
    _, staff = testing.make_supplier()
    [sku] = product_with_skus(staff, 1, stock=10)

    assert services.adjust_stock(
        user=staff, sku_id=sku.id, delta=services.MAX_STOCK - 10
    ).stock == (services.MAX_STOCK)
    with pytest.raises(Conflict) as refused:
        services.adjust_stock(user=staff, sku_id=sku.id, delta=1)

    assert (refused.value.code, refused.value.details) == (
        "stock_limit",
        {"max_stock": services.MAX_STOCK},
    )
    assert stock_of([sku]) == [services.MAX_STOCK]


def test_only_the_suppliers_own_staff_change_its_stock():
    _, staff = testing.make_supplier()
    _, other_staff = testing.make_supplier()
    [sku] = product_with_skus(staff, 1, stock=10)

    for intruder in (other_staff, testing.make_user()):
        with pytest.raises(Forbidden) as refused:
            services.adjust_stock(user=intruder, sku_id=sku.id, delta=5)
        assert refused.value.code == "not_supplier_staff"
    assert stock_of([sku]) == [10]


def test_adjusting_an_unknown_sku_is_not_found():
    _, staff = testing.make_supplier()

    with pytest.raises(NotFound) as refused:
        services.adjust_stock(user=staff, sku_id=999_999, delta=1)

    assert refused.value.code == "not_found"


def test_take_stock_takes_all_or_nothing_in_one_statement():
    _, staff = testing.make_supplier()
    [sku] = product_with_skus(staff, 1, stock=3)

    with testing.assert_query_count(1):
        assert services.take_stock(sku_id=sku.id, quantity=4) is False
    # taken: the conditional update, then the product's version if it is low now
    with testing.assert_query_count(2):
        assert services.take_stock(sku_id=sku.id, quantity=3) is True

    assert stock_of([sku]) == [0]


# reserve_stock / return_stock --------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 10])
def test_reserving_takes_every_sku_in_two_statements_whatever_the_number(count):
    # given
    _, staff = testing.make_supplier()
    skus = product_with_skus(staff, count, stock=100)
    quantities = {sku.id: n + 1 for n, sku in enumerate(skus)}

    # when: lock the rows, then one conditional update (none is low after it)
    with testing.assert_query_count(2):
        services.reserve_stock(quantities=quantities)

    # then
    assert stock_of(skus) == [100 - (n + 1) for n in range(count)]


@pytest.mark.parametrize("count", [1, 10])
def test_reserving_more_than_one_sku_has_takes_nothing(count):
    # given the last SKU is one unit short
    _, staff = testing.make_supplier()
    skus = product_with_skus(staff, count, stock=10)
    quantities = {sku.id: 10 for sku in skus}
    quantities[skus[-1].id] = 11

    # when: the locking read already shows it
    with pytest.raises(Conflict) as refused, testing.assert_query_count(1):
        services.reserve_stock(quantities=quantities)

    # then
    assert (refused.value.code, refused.value.details) == (
        "out_of_stock",
        {"sku_ids": [skus[-1].id]},
    )
    assert stock_of(skus) == [10] * count


def test_reserving_an_unknown_sku_is_out_of_stock():
    _, staff = testing.make_supplier()
    [sku] = product_with_skus(staff, 1, stock=10)

    with pytest.raises(Conflict) as refused:
        services.reserve_stock(quantities={sku.id: 1, 999_999: 1})

    assert (refused.value.code, refused.value.details) == ("out_of_stock", {"sku_ids": [999_999]})
    assert stock_of([sku]) == [10]


@pytest.mark.parametrize("count", [1, 10])
def test_returning_puts_every_sku_back_in_one_statement(count):
    _, staff = testing.make_supplier()
    skus = product_with_skus(staff, count, stock=10)

    # one update of the stock, one of the versions of products that were low
    with testing.assert_query_count(2):
        services.return_stock(quantities={sku.id: n + 1 for n, sku in enumerate(skus)})

    assert stock_of(skus) == [10 + n + 1 for n in range(count)]


def test_returning_nothing_runs_no_query():
    _, staff = testing.make_supplier()
    skus = product_with_skus(staff, 2, stock=10)

    with testing.assert_query_count(0):
        services.return_stock(quantities={skus[0].id: 0, skus[1].id: 0})
    with testing.assert_query_count(0):
        services.return_stock(quantities={})

    assert stock_of(skus) == [10, 10]


# versions of what shoppers see ------------------------------------------------------------


def _version(sku) -> int:
    return Product.objects.get(skus=sku).version


@pytest.mark.parametrize(
    ("stock", "taken", "bumped"),
    [(20, 1, False), (7, 1, False), (7, 2, True), (6, 6, True), (3, 1, True)],
)
def test_reserving_bumps_the_product_only_when_its_stock_state_may_change(stock, taken, bumped):
    # given a SKU with `stock` units (low from 5 down)
    _, staff = testing.make_supplier()
    [sku] = product_with_skus(staff, 1, stock=stock)
    before = _version(sku)
    # when an order takes some
    services.reserve_stock(quantities={sku.id: taken})
    # then the product's cached pages are stale exactly when it is now low or sold out
    assert _version(sku) == before + bumped


@pytest.mark.parametrize(("stock", "added", "bumped"), [(0, 1, True), (5, 10, True), (6, 1, False)])
def test_returning_stock_bumps_the_product_when_it_was_low(stock, added, bumped):
    _, staff = testing.make_supplier()
    [sku] = product_with_skus(staff, 1, stock=stock)
    before = _version(sku)

    services.return_stock(quantities={sku.id: added})

    assert _version(sku) == before + bumped


def test_a_supplier_status_change_bumps_its_products(operator):
    supplier, staff = testing.make_supplier()
    [sku] = product_with_skus(staff, 1, stock=50)
    before = _version(sku)

    services.change_supplier_status(
        supplier=supplier, to=Supplier.Status.SUSPENDED, actor=operator, reason="audit"
    )

    assert _version(sku) == before + 1
