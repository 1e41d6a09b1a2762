"""Micro-shop services, called directly: each rule and each refusal with its code."""

from __future__ import annotations

import pytest

from kinshop import testing
from kinshop.catalog import services as catalog
from kinshop.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kinshop.shops import services
from kinshop.shops.models import Selection, SelectionPrice, Shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def keeper():
    return testing.make_user("keeper")


@pytest.fixture
def keeper_shop(keeper):
    return services.open_shop(user=keeper, handle="nutshop", name="Nut shop")


@pytest.fixture
def two_sku_product(supplier_pair):
    _, staff = supplier_pair
    return testing.make_product(
        staff=staff,
        skus=[
            {
                "code": code,
                "name": name,
                "supply_price": 6000,
                "retail_min": 8000,
                "retail_max": 12000,
                "suggested_retail_price": 9900,
                "stock": 10,
            }
            for code, name in (("S", "250 g"), ("L", "500 g"))
        ],
    )


def prices_of(shop) -> dict[int, int]:
    return dict(SelectionPrice.objects.filter(shop=shop).values_list("sku_id", "retail_price"))


# open_shop ---------------------------------------------------------------------------------


def test_anyone_opens_one_shop_with_a_clean_handle_and_name(keeper):
    shop = services.open_shop(user=keeper, handle="  Nut-Shop ", name=" Nuts ", bio=" Fresh. ")

    assert (shop.owner_id, shop.handle, shop.name, shop.bio, shop.is_active) == (
        keeper.id,
        "nut-shop",
        "Nuts",
        "Fresh.",
        True,
    )
    assert Shop.objects.count() == 1


@pytest.mark.parametrize(
    ("handle", "code"),
    [
        ("ab", "invalid_handle"),
        ("a" * 31, "invalid_handle"),
        ("-nuts", "invalid_handle"),
        ("nuts-", "invalid_handle"),
        ("nut shop", "invalid_handle"),
        ("nut_shop", "invalid_handle"),
        ("admin", "handle_reserved"),
        ("Console", "handle_reserved"),
    ],
)
def test_a_bad_handle_is_refused(keeper, handle, code):
    with pytest.raises(InvalidInput) as refused:
        services.open_shop(user=keeper, handle=handle, name="Nuts")

    assert refused.value.code == code
    assert Shop.objects.count() == 0


@pytest.mark.parametrize("name", ["", "   ", "x" * 61])
def test_a_shop_needs_a_name_of_at_most_60_characters(keeper, name):
    with pytest.raises(InvalidInput) as refused:
        services.open_shop(user=keeper, handle="nuts", name=name)

    assert refused.value.code == "invalid_name"
    assert Shop.objects.count() == 0


def test_a_name_of_exactly_60_characters_is_fine(keeper):
    assert services.open_shop(user=keeper, handle="nuts", name="x" * 60).name == "x" * 60


def test_one_shop_per_person(keeper, keeper_shop):
    with pytest.raises(Conflict) as refused:
        services.open_shop(user=keeper, handle="second", name="Second")

    assert refused.value.code == "already_has_shop"
    assert Shop.objects.count() == 1


def test_a_handle_is_taken_once(keeper_shop):
    with pytest.raises(Conflict) as refused:
        services.open_shop(user=testing.make_user(), handle=" NUTSHOP", name="Copy")

    assert refused.value.code == "handle_taken"
    assert Shop.objects.count() == 1


# update_shop / set_shop_avatar ----------------------------------------------------------------


def test_the_keeper_renames_the_shop_and_edits_its_bio(keeper, keeper_shop):
    services.update_shop(user=keeper, shop=keeper_shop, name=" Nut house ", bio=" Since 1990 ")

    keeper_shop.refresh_from_db()
    assert (keeper_shop.name, keeper_shop.bio) == ("Nut house", "Since 1990")


def test_leaving_a_field_out_keeps_it(keeper, keeper_shop):
    services.update_shop(user=keeper, shop=keeper_shop, bio="New bio")

    keeper_shop.refresh_from_db()
    assert (keeper_shop.name, keeper_shop.bio) == ("Nut shop", "New bio")


@pytest.mark.parametrize("name", ["  ", "x" * 61])
def test_renaming_to_a_bad_name_is_refused(keeper, keeper_shop, name):
    with pytest.raises(InvalidInput) as refused:
        services.update_shop(user=keeper, shop=keeper_shop, name=name, bio="changed")

    assert refused.value.code == "invalid_name"
    keeper_shop.refresh_from_db()
    assert (keeper_shop.name, keeper_shop.bio) == ("Nut shop", "")


def test_only_the_keeper_edits_the_shop(keeper_shop):
    stranger = testing.make_user()

    with pytest.raises(Forbidden) as renaming:
        services.update_shop(user=stranger, shop=keeper_shop, name="Mine now")
    with pytest.raises(Forbidden) as picturing:
        services.set_shop_avatar(user=stranger, shop=keeper_shop, filename="a.png", content=b"x")

    assert (renaming.value.code, picturing.value.code) == ("not_shopkeeper", "not_shopkeeper")
    keeper_shop.refresh_from_db()
    assert (keeper_shop.name, keeper_shop.avatar.name) == ("Nut shop", "")


def test_the_keeper_sets_the_avatar(keeper, keeper_shop):
    services.set_shop_avatar(user=keeper, shop=keeper_shop, filename="face.png", content=b"png")

    keeper_shop.refresh_from_db()
    assert keeper_shop.avatar.name.startswith("shops/face")
    assert keeper_shop.avatar.read() == b"png"


# add_selection -------------------------------------------------------------------------------


def test_an_unpriced_sku_sells_at_the_suggested_price(keeper, keeper_shop, two_sku_product):
    small, large = two_sku_product.skus.order_by("name")

    selection = services.add_selection(
        user=keeper, shop=keeper_shop, product_id=two_sku_product.id, prices={large.id: 12000}
    )

    assert (selection.shop_id, selection.product_id, selection.position) == (
        keeper_shop.id,
        two_sku_product.id,
        1,
    )
    assert prices_of(keeper_shop) == {small.id: 9900, large.id: 12000}


def test_picking_a_product_again_updates_its_prices_in_place(keeper, keeper_shop, two_sku_product):
    small, large = two_sku_product.skus.order_by("name")
    first = services.add_selection(
        user=keeper, shop=keeper_shop, product_id=two_sku_product.id, prices={}
    )

    again = services.add_selection(
        user=keeper, shop=keeper_shop, product_id=two_sku_product.id, prices={small.id: 8000}
    )

    assert (again.pk, again.position) == (first.pk, 1)
    assert Selection.objects.filter(shop=keeper_shop).count() == 1
    assert prices_of(keeper_shop) == {small.id: 8000, large.id: 9900}


def test_each_new_product_goes_last(keeper, keeper_shop, supplier_pair):
    _, staff = supplier_pair
    products = [testing.make_product(staff=staff) for _ in range(3)]

    positions = [
        services.add_selection(user=keeper, shop=keeper_shop, product_id=p.id, prices={}).position
        for p in products
    ]

    assert positions == [1, 2, 3]


def test_only_the_keeper_chooses_what_the_shop_sells(keeper_shop, product):
    with pytest.raises(Forbidden) as refused:
        services.add_selection(
            user=testing.make_user(), shop=keeper_shop, product_id=product.id, prices={}
        )

    assert refused.value.code == "not_shopkeeper"
    assert Selection.objects.count() == 0


def test_a_product_outside_the_market_cannot_be_picked(keeper, keeper_shop, supplier_pair):
    supplier, staff = supplier_pair
    inactive = testing.make_product(staff=staff)
    inactive.is_active = False
    inactive.save()
    suspended_product = testing.make_product(staff=staff)
    catalog.change_supplier_status(supplier=supplier, to="suspended", actor=testing.make_operator())

    for product_id in (inactive.id, suspended_product.id, 999_999):
        with pytest.raises(NotFound) as refused:
            services.add_selection(user=keeper, shop=keeper_shop, product_id=product_id, prices={})
        assert refused.value.code == "product_not_found"
    assert Selection.objects.count() == 0


def test_a_price_for_another_products_sku_is_refused(keeper, keeper_shop, product, supplier_pair):
    _, staff = supplier_pair
    other_sku = testing.make_product(staff=staff).skus.get()

    with pytest.raises(InvalidInput) as refused:
        services.add_selection(
            user=keeper, shop=keeper_shop, product_id=product.id, prices={other_sku.id: 9900}
        )

    assert (refused.value.code, refused.value.details) == (
        "unknown_sku",
        {"sku_ids": [other_sku.id]},
    )
    assert (Selection.objects.count(), SelectionPrice.objects.count()) == (0, 0)


@pytest.mark.parametrize("price", [7999, 12001])
def test_a_price_outside_the_band_is_refused(keeper, keeper_shop, product, price):
    sku = product.skus.get()

    with pytest.raises(InvalidInput) as refused:
        services.add_selection(
            user=keeper, shop=keeper_shop, product_id=product.id, prices={sku.id: price}
        )

    assert (refused.value.code, refused.value.details) == (
        "price_out_of_band",
        {"sku_id": sku.id, "retail_min": 8000, "retail_max": 12000},
    )
    assert (Selection.objects.count(), SelectionPrice.objects.count()) == (0, 0)


@pytest.mark.parametrize("price", [8000, 12000])
def test_the_band_edges_are_allowed(keeper, keeper_shop, product, price):
    sku = product.skus.get()

    services.add_selection(
        user=keeper, shop=keeper_shop, product_id=product.id, prices={sku.id: price}
    )

    assert prices_of(keeper_shop) == {sku.id: price}


def test_a_price_that_no_longer_covers_the_cost_is_refused(keeper, keeper_shop, product, settings):
    # given the platform fee rose to 20 % after the product was listed:
    # at 80.00, 80.00 − 60.00 supply − 16.00 fee − 8.00 commission < 0
    settings.KINSHOP_PLATFORM_FEE_BP = 2000
    sku = product.skus.get()

    # when / then
    with pytest.raises(InvalidInput) as refused:
        services.add_selection(
            user=keeper, shop=keeper_shop, product_id=product.id, prices={sku.id: 8000}
        )
    assert (refused.value.code, refused.value.details) == ("price_below_cost", {"sku_id": sku.id})
    # at 120.00: 120.00 − 60.00 − 24.00 − 12.00 = 24.00 ≥ 0
    services.add_selection(
        user=keeper, shop=keeper_shop, product_id=product.id, prices={sku.id: 12000}
    )
    assert prices_of(keeper_shop) == {sku.id: 12000}


# remove_selection ----------------------------------------------------------------------------


def test_removing_a_product_removes_its_prices(keeper, keeper_shop, two_sku_product, product):
    for picked in (two_sku_product, product):
        services.add_selection(user=keeper, shop=keeper_shop, product_id=picked.id, prices={})

    services.remove_selection(user=keeper, shop=keeper_shop, product_id=two_sku_product.id)

    assert list(
        Selection.objects.filter(shop=keeper_shop).values_list("product_id", flat=True)
    ) == [product.id]
    assert prices_of(keeper_shop) == {product.skus.get().id: 9900}


def test_only_the_keeper_removes_a_product(keeper, keeper_shop, product):
    services.add_selection(user=keeper, shop=keeper_shop, product_id=product.id, prices={})

    with pytest.raises(Forbidden) as refused:
        services.remove_selection(user=testing.make_user(), shop=keeper_shop, product_id=product.id)

    assert refused.value.code == "not_shopkeeper"
    assert Selection.objects.filter(shop=keeper_shop).count() == 1


def test_removing_a_product_the_shop_does_not_sell_is_not_found(keeper, keeper_shop, product):
    with pytest.raises(NotFound) as refused:
        services.remove_selection(user=keeper, shop=keeper_shop, product_id=product.id)

    assert refused.value.code == "not_found"
