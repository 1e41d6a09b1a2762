from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from kinshop import testing
from kinshop.core import clock
from kinshop.core.errors import InvalidInput, NotFound
from kinshop.orders import queries as order_queries
from kinshop.sharing import services
from kinshop.sharing.models import Binding, Click
from kinshop.sharing.tests.conftest import days_ago, make_order

pytestmark = pytest.mark.django_db

# Share links -----------------------------------------------------------------


def test_sharing_the_same_target_twice_returns_the_same_link(sharer, shop, product):
    first = services.create_share_link(sharer=sharer, shop=shop, product=product)
    again = services.create_share_link(sharer=sharer, shop=shop, product=product.id)
    shop_link = services.create_share_link(sharer=sharer, shop=shop)

    assert again.pk == first.pk
    assert first.target == "product" and first.product_id == product.id
    assert shop_link.pk != first.pk and shop_link.target == "shop"
    assert services.create_share_link(sharer=sharer, shop=shop).pk == shop_link.pk
    assert len(first.code) == 10


def test_a_product_the_shop_does_not_sell_cannot_be_shared(sharer, shop, supplier_pair):
    _, staff = supplier_pair
    other = testing.make_product(staff=staff, title="Not sold here")

    with pytest.raises(InvalidInput) as error:
        services.create_share_link(sharer=sharer, shop=shop, product=other)

    assert error.value.code == "product_not_in_shop"


# Clicks ------------------------------------------------------------------------


def test_record_click_refuses_unknown_codes_and_channels(sharer, shop, buyer):
    link = services.create_share_link(sharer=sharer, shop=shop)

    with pytest.raises(NotFound) as unknown:
        services.record_click(code="bcdfg23456", viewer=buyer)
    with pytest.raises(InvalidInput) as channel:
        services.record_click(code=link.code, viewer=buyer, channel="email")

    assert unknown.value.code == "share_link_not_found"
    assert channel.value.code == "invalid_channel"
    assert Click.objects.count() == 0


def test_a_click_is_recorded_with_its_evidence(sharer, shop, buyer):
    link = services.create_share_link(sharer=sharer, shop=shop)
    at = days_ago(1)

    click = services.record_click(code=link.code, viewer=buyer, channel="qr", at=at)

    click.refresh_from_db()
    assert (click.link_id, click.shop_id, click.sharer_id, click.viewer_id) == (
        link.id,
        shop.id,
        sharer.id,
        buyer.id,
    )
    assert (click.channel, click.at) == ("qr", at)


def test_anonymous_clicks_are_claimed_after_sign_up(sharer, shop, last_click):
    link = services.create_share_link(sharer=sharer, shop=shop)
    services.record_click(code=link.code, visitor_key="visitor-1", channel="qr")
    services.record_click(code=link.code, visitor_key="visitor-2")
    newcomer = testing.make_user("newcomer")

    claimed = services.claim_anonymous_clicks(visitor_key="visitor-1", user=newcomer)

    assert claimed == 1
    assert Click.objects.get(visitor_key="visitor-1").viewer_id == newcomer.id
    assert Click.objects.get(visitor_key="visitor-2").viewer_id is None
    assert services.claim_anonymous_clicks(visitor_key="visitor-1", user=newcomer) == 0
    assert services.claim_anonymous_clicks(visitor_key="", user=newcomer) == 0
    found = services.attribute(buyer=newcomer, shop=shop, at=clock.now())
    assert found is not None and found.beneficiary_id == sharer.id


def test_claimed_clicks_bind_under_the_binding_policy(sharer, shop, binding):
    link = services.create_share_link(sharer=sharer, shop=shop)
    services.record_click(code=link.code, visitor_key="visitor-1", at=days_ago(2))
    newcomer = testing.make_user("newcomer")

    services.claim_anonymous_clicks(visitor_key="visitor-1", user=newcomer)

    bound = Binding.objects.get(buyer=newcomer, shop=shop)
    assert bound.sharer_id == sharer.id


# Attribution: last click --------------------------------------------------------


def test_a_click_older_than_the_window_does_not_count(sharer, shop, buyer, last_click):
    link = services.create_share_link(sharer=sharer, shop=shop)
    services.record_click(code=link.code, viewer=buyer, at=days_ago(8))

    assert services.attribute(buyer=buyer, shop=shop, at=clock.now()) is None
    assert services.resolve_attribution(buyer=buyer, shop=shop, at=clock.now()).note == "no_click"


def test_a_click_inside_the_window_names_the_sharer(sharer, shop, buyer, last_click):
    link = services.create_share_link(sharer=sharer, shop=shop)
    click = services.record_click(code=link.code, viewer=buyer, channel="qr", at=days_ago(6))

    found = services.attribute(buyer=buyer, shop=shop, at=clock.now())

    assert found == services.Attribution(
        beneficiary_id=sharer.id, click_id=click.id, policy="last_click", note=found.note
    )
    assert found.note.startswith("qr click at ")


def test_the_latest_click_wins(sharer, shop, buyer, last_click):
    other = testing.make_user("other_sharer")
    first = services.create_share_link(sharer=sharer, shop=shop)
    second = services.create_share_link(sharer=other, shop=shop)
    services.record_click(code=first.code, viewer=buyer, at=days_ago(3))
    latest = services.record_click(code=second.code, viewer=buyer, at=days_ago(1))
    services.record_click(code=first.code, viewer=buyer, at=days_ago(2))

    found = services.attribute(buyer=buyer, shop=shop, at=clock.now())

    assert (found.beneficiary_id, found.click_id) == (other.id, latest.id)


def test_clicks_on_another_shop_do_not_count(sharer, shop, buyer, last_click, product):
    elsewhere = testing.make_shop(handle="othershop", products=[product])
    link = services.create_share_link(sharer=sharer, shop=elsewhere)
    services.record_click(code=link.code, viewer=buyer, at=days_ago(1))

    assert services.attribute(buyer=buyer, shop=shop, at=clock.now()) is None


def test_a_share_code_at_checkout_counts_as_a_click_now(sharer, shop, buyer, last_click):
    other = testing.make_user("other_sharer")
    earlier = services.create_share_link(sharer=other, shop=shop)
    services.record_click(code=earlier.code, viewer=buyer, at=days_ago(1))
    link = services.create_share_link(sharer=sharer, shop=shop)
    now = clock.now()

    found = services.attribute(buyer=buyer, shop=shop, share_code=link.code, at=now)

    click = Click.objects.get(pk=found.click_id)
    assert found.beneficiary_id == sharer.id
    assert (click.link_id, click.viewer_id, click.channel, click.at) == (
        link.id,
        buyer.id,
        "link",
        now,
    )


def test_a_share_code_of_another_shop_or_unknown_is_ignored(
    sharer, shop, buyer, last_click, product
):
    elsewhere = testing.make_shop(handle="othershop", products=[product])
    foreign = services.create_share_link(sharer=sharer, shop=elsewhere)

    assert (
        services.attribute(buyer=buyer, shop=shop, share_code=foreign.code, at=clock.now()) is None
    )
    assert (
        services.attribute(buyer=buyer, shop=shop, share_code="nonsense!", at=clock.now()) is None
    )
    assert Click.objects.count() == 0


# Attribution: binding ---------------------------------------------------------------


def test_the_first_sharer_stays_bound_until_expiry(sharer, shop, buyer, binding):
    other = testing.make_user("other_sharer")
    first = services.create_share_link(sharer=sharer, shop=shop)
    second = services.create_share_link(sharer=other, shop=shop)
    first_click = services.record_click(code=first.code, viewer=buyer, at=days_ago(20))
    services.record_click(code=second.code, viewer=buyer, at=days_ago(1))

    found = services.attribute(buyer=buyer, shop=shop, share_code=second.code, at=clock.now())

    assert (found.beneficiary_id, found.click_id, found.policy) == (
        sharer.id,
        first_click.id,
        "binding",
    )
    bound = Binding.objects.get(buyer=buyer, shop=shop)
    assert (bound.sharer_id, bound.expires_at) == (
        sharer.id,
        first_click.at + dt.timedelta(days=30),
    )


def test_after_expiry_the_next_click_binds_again(sharer, shop, buyer, binding):
    other = testing.make_user("other_sharer")
    first = services.create_share_link(sharer=sharer, shop=shop)
    second = services.create_share_link(sharer=other, shop=shop)
    services.record_click(code=first.code, viewer=buyer, at=days_ago(40))
    rebinding = services.record_click(code=second.code, viewer=buyer, at=days_ago(2))

    found = services.attribute(buyer=buyer, shop=shop, at=clock.now())

    assert (found.beneficiary_id, found.click_id) == (other.id, rebinding.id)
    assert Binding.objects.get(buyer=buyer, shop=shop).sharer_id == other.id
    assert Binding.objects.count() == 1


def test_checkout_binds_a_buyer_who_was_not_bound(sharer, shop, buyer, binding):
    link = services.create_share_link(sharer=sharer, shop=shop)
    now = clock.now()

    found = services.attribute(buyer=buyer, shop=shop, share_code=link.code, at=now)

    bound = Binding.objects.get(buyer=buyer, shop=shop)
    assert (found.beneficiary_id, bound.sharer_id, bound.click_id) == (
        sharer.id,
        sharer.id,
        found.click_id,
    )
    assert bound.expires_at == now + dt.timedelta(days=30)


def test_an_ineligible_sharer_does_not_bind(shop, buyer, binding):
    keeper_link = services.create_share_link(sharer=shop.owner, shop=shop)

    services.record_click(code=keeper_link.code, viewer=buyer, at=days_ago(1))

    assert not Binding.objects.exists()
    decision = services.resolve_attribution(buyer=buyer, shop=shop, at=clock.now())
    assert decision.attribution is None and decision.refusal == "shopkeeper"


# Who may not earn -----------------------------------------------------------------------


def _clicked(sharer, shop, buyer):
    link = services.create_share_link(sharer=sharer, shop=shop)
    return services.record_click(code=link.code, viewer=buyer, at=days_ago(1))


@pytest.mark.parametrize("policy", ["last_click", "binding"])
def test_buying_through_your_own_link_earns_nothing(settings, policy, shop, buyer):
    settings.KINSHOP_ATTRIBUTION = policy
    click = _clicked(buyer, shop, buyer)

    decision = services.resolve_attribution(buyer=buyer, shop=shop, at=clock.now())

    assert services.attribute(buyer=buyer, shop=shop, at=clock.now()) is None
    assert (decision.click_id, decision.refusal) == (click.id, "self_referral")
    assert not Binding.objects.exists()


def test_the_shopkeeper_earns_margin_not_commission(shop, buyer, last_click):
    _clicked(shop.owner, shop, buyer)

    decision = services.resolve_attribution(buyer=buyer, shop=shop, at=clock.now())

    assert decision.attribution is None and decision.refusal == "shopkeeper"


def test_a_second_account_with_the_same_phone_is_the_buyer(shop, buyer, last_click):
    twin = testing.make_user("twin", phone="+86 139 0000 0002")
    _clicked(twin, shop, buyer)

    decision = services.resolve_attribution(buyer=buyer, shop=shop, at=clock.now())

    assert decision.attribution is None and decision.refusal == "linked_identity"


def test_a_second_account_with_the_same_email_is_the_buyer(shop, buyer, last_click):
    twin = testing.make_user("twin", email="BUYER@example.com")
    _clicked(twin, shop, buyer)

    assert services.resolve_attribution(buyer=buyer, shop=shop, at=clock.now()).refusal == (
        "linked_identity"
    )


def test_a_sharer_whose_phone_the_buyer_ships_to_is_linked(shop, buyer, product, last_click):
    sharer = testing.make_user("spouse", phone="13600000006")
    make_order(buyer=buyer, shop=shop, product=product, recipient_phone="136-0000-0006")
    _clicked(sharer, shop, buyer)

    assert services.resolve_attribution(buyer=buyer, shop=shop, at=clock.now()).refusal == (
        "linked_identity"
    )


def test_a_sharer_who_ships_to_the_buyers_phone_is_linked(shop, buyer, product, last_click):
    sharer = testing.make_user("spouse", phone="13600000006")
    make_order(buyer=sharer, shop=shop, product=product, recipient_phone=buyer.phone)
    _clicked(sharer, shop, buyer)

    assert services.resolve_attribution(buyer=buyer, shop=shop, at=clock.now()).refusal == (
        "linked_identity"
    )


def test_orders_to_other_phones_do_not_link(sharer, shop, buyer, product, last_click):
    make_order(buyer=buyer, shop=shop, product=product, recipient_phone="13100000000")
    make_order(buyer=sharer, shop=shop, product=product, recipient_phone="13200000000")
    _clicked(sharer, shop, buyer)

    found = services.attribute(buyer=buyer, shop=shop, at=clock.now())

    assert found is not None and found.beneficiary_id == sharer.id


# Query counts --------------------------------------------------------------------------


def _attribute_in(count, buyer, shop, share_code=""):
    with testing.assert_query_count(count):
        found = services.attribute(buyer=buyer, shop=shop, share_code=share_code, at=clock.now())
    assert found is not None


@pytest.mark.parametrize(
    ("policy", "without_code", "with_code"), [("last_click", 2, 3), ("binding", 2, 4)]
)
def test_attribute_costs_the_same_whatever_the_history(
    settings, policy, without_code, with_code, shop, product
):
    settings.KINSHOP_ATTRIBUTION = policy
    for history in (1, 30):
        sharer = testing.make_user(phone=f"1380000{history:04d}")
        buyer = testing.make_user(phone=f"1390000{history:04d}")
        link = services.create_share_link(sharer=sharer, shop=shop)
        for i in range(history):
            make_order(buyer=buyer, shop=shop, product=product, recipient_phone=f"1370000{i:04d}")
            make_order(buyer=sharer, shop=shop, product=product, recipient_phone=f"1350000{i:04d}")
            services.record_click(code=link.code, viewer=buyer, at=days_ago(1 + i / 100))
        _attribute_in(without_code, buyer, shop)
        _attribute_in(with_code, buyer, shop, link.code)


# My shares (counted by orders, where the lines are) ----------------------------------------


def test_my_shares_counts_clicks_orders_and_commission(sharer, shop, buyer, product):
    link = services.create_share_link(sharer=sharer, shop=shop, product=product)
    quiet = services.create_share_link(sharer=sharer, shop=shop)
    clicks = [services.record_click(code=link.code, viewer=buyer) for _ in range(3)]
    # 10 % of 9 999 fen rounds down to 999; two lines of one order count once.
    order = make_order(buyer=buyer, shop=shop, product=product, beneficiary=sharer, click=clicks[0],
                       unit_price=9999)  # fmt: skip
    make_order(buyer=buyer, shop=shop, product=product, beneficiary=sharer, click=clicks[1],
               quantity=2)  # fmt: skip
    make_order(buyer=buyer, shop=shop, product=product, beneficiary=sharer, click=clicks[2],
               status="cancelled")  # fmt: skip
    line = order.lines.get()
    line.pk = None
    line.save()
    # Another user's lines on this click are not this sharer's commission.
    make_order(buyer=buyer, shop=shop, product=product, beneficiary=buyer, click=clicks[0])

    rows = {row.code: row for row in order_queries.my_shares(sharer)}

    assert (
        rows[link.code].click_count,
        rows[link.code].order_count,
        rows[link.code].commission_total,
    ) == (
        3,
        2,
        999 + 999 + 1980,
    )
    assert (
        rows[quiet.code].click_count,
        rows[quiet.code].order_count,
        rows[quiet.code].commission_total,
    ) == (0, 0, 0)
    assert list(order_queries.my_shares(buyer)) == []


def test_my_shares_costs_the_same_whatever_the_history(sharer, shop, buyer, product):
    link = services.create_share_link(sharer=sharer, shop=shop, product=product)
    for _ in range(10):
        click = services.record_click(code=link.code, viewer=buyer)
        make_order(buyer=buyer, shop=shop, product=product, beneficiary=sharer, click=click)
    services.create_share_link(sharer=sharer, shop=shop)

    with testing.assert_query_count(1):
        rows = list(order_queries.my_shares(sharer))

    assert [row.order_count for row in rows] == [0, 10]


@pytest.mark.django_db(transaction=True)
def test_an_anonymous_landing_is_one_statement_outside_a_transaction():
    # given a link whose target is in the cache, and no transaction open (as served)
    with transaction.atomic():
        _, staff = testing.make_supplier()
        product = testing.make_product(staff=staff)
        shop = testing.make_shop(products=[product])
        sharer = testing.make_user("sharer")
        link = services.create_share_link(sharer=sharer, shop=shop, product=product)
    services.land(code=link.code, visitor_key="first")
    # when a new visitor lands on it, then again within the click window
    with testing.assert_query_count(1) as captured:
        target = services.land(code=link.code, visitor_key="second", channel="qr")
    services.land(code=link.code, visitor_key="second")
    # then the click's INSERT ran alone, with no BEGIN and COMMIT around it, and
    # the repeat added nothing
    assert captured.captured_queries[0]["sql"].startswith("INSERT")
    assert target.path == f"/shop/{shop.handle}/p/{product.id}/"
    click = Click.objects.get(visitor_key="second")
    assert (click.link_id, click.shop_id, click.sharer_id, click.viewer_id) == (
        link.id,
        shop.id,
        sharer.id,
        None,
    )
    assert click.channel == "qr" and click.window_index == services.click_window(click.at)
