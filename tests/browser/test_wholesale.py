"""The shop console's wholesale page on a phone: a market-stall keeper sees what
they hold, records an offline sale and buys more stock, which takes them to
paying for it like any order."""

from __future__ import annotations

import re

import pytest

from tests.browser import helpers

helpers.require_chromium()

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("servers")]


def test_a_market_stall_records_an_offline_sale_and_buys_stock(new_context, server):
    page = new_context("phone").new_page()
    helpers.sign_in(page, server, "teacher-wang", next_url="/console/shop/wholesale/")
    response = page.goto(f"{server.base_url}/console/shop/wholesale/")
    helpers.assert_clean(page, response, what="wholesale page")
    holdings = server.api("GET", "/shops/teacher-wang/holdings", as_="teacher-wang").json()
    (row,) = holdings
    held = row["held"]
    assert held == 24  # the demo: 30 bought, 6 sold at the Sunday market
    helpers.keep_screenshot(page, "wholesale-phone")
    assert helpers.horizontal_overflow(page) == 0, helpers.widest_elements(page)

    # when the keeper records 4 units sold at ¥88
    sku_id = row["sku_id"]
    page.fill(f"#sold-{sku_id}", "4")
    page.fill(f"#price-{sku_id}", "88")
    with page.expect_navigation():
        page.click(f"[data-testid=sell-{sku_id}]")

    # then the page shows 20 held and the API agrees
    assert page.inner_text(f"[data-testid=held-{sku_id}]") == str(held - 4)
    after = server.api("GET", "/shops/teacher-wang/holdings", as_="teacher-wang").json()
    assert after[0]["sold_offline"] == row["sold_offline"] + 4

    # and buying 10 more at the tier price leads to paying for the wholesale order
    page.fill(f"#quantity-{sku_id}", "10")
    with page.expect_navigation():
        page.click(f"[data-testid=buy-{sku_id}]")
    assert re.search(r"/orders/\d+/pay/$", page.url), page.url
    helpers.keep_screenshot(page, "wholesale-pay-phone")
