"""A live room in two browsers at once: a message one viewer sends appears in
the other's page without reloading it, as text (the markup typed stays text),
through the room's event stream served by `kinshop serve`."""

from __future__ import annotations

import pytest

from kinshop.demo import data
from tests.browser import helpers

helpers.require_chromium()

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("servers")]


def _room_url(new_context, server) -> str:
    """The demo's room on air, found as its shopkeeper finds it."""
    page = new_context("desktop").new_page()
    helpers.sign_in(page, server, "mama-lin", "/console/shop/live/")
    page.get_by_role("link", name=data.LIVE_TITLE).click()
    page.wait_for_selector("[data-testid=open-room]")
    return server.base_url + page.locator("[data-testid=open-room]").get_attribute("href")


def test_a_message_from_one_viewer_appears_in_the_other_without_reloading(new_context, server):
    url = _room_url(new_context, server)
    sender = new_context("phone").new_page()
    watcher = new_context("phone").new_page()
    helpers.sign_in(sender, server, "xiaomei", url)
    helpers.sign_in(watcher, server, "laozhang", url)
    for page in (sender, watcher):
        response = page.goto(url)
        helpers.assert_clean(page, response, what="live room")
        # the stream is open once the viewer count has come through it
        page.wait_for_function(
            "() => Number(document.querySelector('[data-live-viewers]').textContent) >= 1"
        )
    watcher.evaluate("window.kinshopNotReloaded = true")
    before = watcher.locator("[data-testid=live-messages] li").count()

    text = "开箱了吗？<b>bold</b> & <img src=x>"
    sender.fill("[data-testid=live-text]", text)
    sender.click("[data-testid=live-send]")

    last = watcher.locator("[data-testid=live-messages] li").nth(before)
    last.wait_for(timeout=5_000)
    assert last.inner_text() == f"小美 Xiaomei {text}"
    assert last.locator("b").count() == 1  # the author's name; the typed <b> is text
    assert last.locator("img").count() == 0
    assert watcher.evaluate("window.kinshopNotReloaded") is True
    # sent, the field cleared (once the sender's own request has answered)
    sender.wait_for_function("() => document.querySelector('[data-testid=live-text]').value === ''")
    assert helpers.horizontal_overflow(watcher) == 0
    helpers.keep_screenshot(watcher, "live-room-360")


def test_a_deal_the_keeper_starts_appears_in_every_viewer_and_counts_down(new_context, server):
    url = _room_url(new_context, server)
    room_id = int(url.rstrip("/").rsplit("/", 1)[1])
    keeper = new_context("desktop").new_page()
    helpers.sign_in(keeper, server, "mama-lin", f"/console/shop/live/{room_id}/")
    watchers = [new_context("phone").new_page(), new_context("phone").new_page()]
    helpers.sign_in(watchers[0], server, "xiaomei", url)
    helpers.sign_in(watchers[1], server, "laozhang", url)
    for page in watchers:
        response = page.goto(url)
        helpers.assert_clean(page, response, what="live room")
        page.wait_for_function(
            "() => Number(document.querySelector('[data-live-viewers]').textContent) >= 1"
        )
        # the demo's running deal is on the page, counting down
        page.wait_for_function(
            "() => /\\d\\d:\\d\\d/.test("
            "document.querySelector('[data-testid=live-deal-clock]').textContent)"
        )
        page.evaluate("window.kinshopNotReloaded = true")

    # the shopkeeper starts another deal in the room through the API (create_flash_sale)
    made = keeper.evaluate(
        """async (roomId) => {
          const room = await (await fetch(`/api/v1/live-rooms/${roomId}`)).json();
          const demo = room.deals[0];
          const now = Date.now();
          const answer = await fetch(`/api/v1/shops/${room.shop}/flash-sales`, {
            method: "POST",
            credentials: "same-origin",
            headers: {
              "Content-Type": "application/json",
              "X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value,
            },
            body: JSON.stringify({
              sku_id: demo.sku_id, price: demo.price, units: 3, per_buyer_limit: 1,
              starts_at: new Date(now - 60000).toISOString(),
              ends_at: new Date(now + 600000).toISOString(),
              payment_minutes: 10, live_room_id: roomId,
            }),
          });
          return {status: answer.status, body: await answer.json()};
        }""",
        room_id,
    )
    assert made["status"] == 201, made
    sale_id = made["body"]["id"]

    for page in watchers:
        item = page.locator(f"[data-live-deals] [data-deal='{sale_id}']")
        item.wait_for(timeout=5_000)
        assert "3" in item.locator("[data-deal-left]").inner_text()
        first = item.locator("[data-testid=live-deal-clock]").inner_text()
        page.wait_for_function(
            "([id, first]) => { const c = document.querySelector("
            "`[data-deal='${id}'] [data-deal-clock]`); return c && c.textContent !== first; }",
            arg=[sale_id, first],
            timeout=5_000,
        )  # it counts down
        assert page.locator("[data-live-deal-select]").input_value() == str(sale_id)
        assert page.evaluate("window.kinshopNotReloaded") is True
        assert helpers.horizontal_overflow(page) == 0
    helpers.keep_screenshot(watchers[1], "live-room-deal-360")

    # the shopkeeper ends it early (end_flash_sale): every viewer's card stops
    ended = keeper.evaluate(
        """async (saleId) => {
          const answer = await fetch(`/api/v1/flash-sales/${saleId}/end`, {
            method: "POST",
            credentials: "same-origin",
            headers: {"X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value},
          });
          return {status: answer.status, body: await answer.json()};
        }""",
        sale_id,
    )
    assert (ended["status"], ended["body"]["status"]) == (200, "ended"), ended
    for page in watchers:
        page.wait_for_function(
            "(id) => { const item = document.querySelector(`[data-deal='${id}']`);"
            " return item && item.classList.contains('live-deal-over'); }",
            arg=sale_id,
            timeout=5_000,
        )
        options = page.locator("[data-live-deal-select] option").evaluate_all(
            "(options) => options.map((option) => option.value)"
        )
        assert str(sale_id) not in options
        assert page.evaluate("window.kinshopNotReloaded") is True
