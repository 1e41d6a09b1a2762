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
    assert sender.input_value("[data-testid=live-text]") == ""  # sent, the field cleared
    assert helpers.horizontal_overflow(watcher) == 0
    helpers.keep_screenshot(watcher, "live-room-360")
