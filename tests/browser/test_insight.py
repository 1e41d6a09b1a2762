"""The insight pages on a phone, as the demo's shopkeeper, sharer and operator:
every chart is drawn by ECharts from its JSON block (no console errors, no
inline script), nothing scrolls sideways at 360 px, and a chart's CSV link
downloads its numbers. Screenshots land in tests/screenshots/."""

from __future__ import annotations

import pytest

from tests.browser import helpers

helpers.require_chromium()

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("servers")]

PAGES = (
    (
        "insight-shop",
        "/console/shop/insight/",
        "mama-lin",
        ("funnel", "channels", "cohorts", "factors"),
    ),
    ("insight-sharer", "/me/insight/", "xiaomei", ("links", "channels")),
    (
        "insight-platform",
        "/console/insight/",
        "operator",
        ("lorenz", "deciles", "funnel", "channels"),
    ),
)


@pytest.mark.parametrize(("name", "path", "user", "charts"), PAGES, ids=[p[0] for p in PAGES])
def test_insight_page_on_a_phone(name, path, user, charts, new_context, server):
    page = new_context("phone").new_page()
    errors: list[str] = []

    def console(message) -> None:
        # the browser asks for /favicon.ico on its own; Kinshop has none
        if message.type == "error" and "favicon" not in message.location.get("url", ""):
            errors.append(f"{message.text} {message.location.get('url', '')}")

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    helpers.sign_in(page, server, user)
    response = page.goto(server.base_url + path)
    helpers.assert_clean(page, response, what=name)
    for chart in charts:
        figure = page.locator(f"[data-chart={chart}]")
        figure.wait_for()
        # drawn into an SVG, or honestly empty when the period has no data
        page.wait_for_function(
            "(name) => { const f = document.querySelector(`[data-chart=${name}]`);"
            " return f.classList.contains('is-drawn') || f.classList.contains('is-empty'); }",
            arg=chart,
        )
    drawn = page.locator(".chart.is-drawn svg").count()
    assert drawn >= 2, f"{name}: only {drawn} charts drawn"
    helpers.keep_screenshot(page, f"{name}-360")
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 361, f"{name} scrolls sideways: {helpers.widest_elements(page)}"
    assert not errors, f"{name}: console errors {errors}"
    with page.expect_download() as download:
        page.click(f"[data-testid=csv-{charts[0]}]")
    with open(download.value.path(), encoding="utf-8") as downloaded:
        header = downloaded.readline()
    assert "," in header
