"""Screenshots of the main pages at phone and desktop widths, in Chinese, as the
demo people who use them. Each page must answer 200, show no error text, break
nothing the Content-Security-Policy forbids (Chromium's console says so), and
at 360 px never scroll sideways. The PNGs land in tests/screenshots/ (ignored
by git) for a person to look at."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.browser import helpers

helpers.require_chromium()

# the server fixture is per session, so per worker: keep all browser tests on one
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("servers")]

WIDTHS = (360, 1280)


@dataclass(frozen=True)
class Screen:
    name: str
    path: str
    user: str = ""  # "" is an anonymous visitor


SCREENS = (
    Screen("home", "/"),
    Screen("sign-in", "/accounts/sign-in/"),
    Screen("admin-login", "/admin/login/"),
    Screen("storefront", "/shop/hangzhou-mama/"),
    Screen("product", "/shop/hangzhou-mama/p/{hickory}/"),
    Screen("cart", "/cart/", "laozhang"),
    Screen("my-orders", "/orders/", "xiaomei"),
    Screen("sharer-centre", "/me/", "xiaomei"),
    Screen("sharer-withdrawals", "/me/withdrawals/", "xiaomei"),
    Screen("shop-console", "/console/shop/", "mama-lin"),
    Screen("shop-console-orders", "/console/shop/orders/", "xiaolu"),
    Screen("shop-console-campaigns", "/console/shop/campaigns/", "mama-lin"),
    Screen("shop-console-live", "/console/shop/live/", "mama-lin"),
    Screen("supplier-console", "/console/supplier/", "qinglan"),
    Screen("supplier-orders", "/console/supplier/orders/", "qinglan"),
    Screen("supplier-refunds", "/console/supplier/refunds/", "qinglan"),
    Screen("shop-console-wholesale", "/console/shop/wholesale/", "acha"),
    Screen("supplier-wholesale", "/console/supplier/wholesale/", "whitetea"),
    Screen("admin-withdrawals", "/admin/ledger/withdrawal/", "operator"),
    Screen("admin-index", "/admin/", "operator"),
)


@pytest.fixture(scope="module")
def pages(browser, server):
    """One signed-in page per (person, width), shared by the screens. Each person
    signs in once, through the sign-in page; the other width reuses the session."""
    opened = {}
    sessions = {}
    violations = {}

    def page_for(user: str, width: int):
        if (user, width) not in opened:
            options = helpers.PHONE if width == 360 else helpers.DESKTOP
            context = browser.new_context(**options, storage_state=sessions.get(user))
            context.set_default_timeout(15_000)
            page = context.new_page()
            violations[page] = helpers.watch_csp_violations(page)
            if user and user not in sessions:
                helpers.sign_in(page, server, user)
                sessions[user] = context.storage_state()
            opened[user, width] = page
        return opened[user, width]

    page_for.violations = violations  # type: ignore[attr-defined]
    yield page_for
    for page in opened.values():
        page.context.close()


@pytest.fixture(scope="module")
def placeholders(server):
    found = server.api("GET", "/products", params={"q": "临安手剥山核桃"}).json()
    items = found["items"] if isinstance(found, dict) else found
    return {"hickory": items[0]["id"]}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("screen", SCREENS, ids=[screen.name for screen in SCREENS])
def test_screenshot(screen, width, pages, placeholders, server):
    page = pages(screen.user, width)
    pages.violations[page].clear()
    response = page.goto(server.base_url + screen.path.format(**placeholders))
    page.wait_for_load_state("load")
    helpers.keep_screenshot(page, f"{screen.name}-{width}")
    helpers.assert_clean(page, response, what=f"{screen.name} at {width}px")
    if screen.user:
        assert "/accounts/sign-in/" not in page.url, f"{screen.name}: sent to sign in"
    assert pages.violations[page] == [], f"{screen.name}: the Content-Security-Policy refused"
    if width == 360:
        overflow = page.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= 360 + 1, (
            f"{screen.name} scrolls sideways at 360 px (scrollWidth {overflow}): "
            f"{helpers.widest_elements(page)}"
        )
