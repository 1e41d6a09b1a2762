"""A real Kinshop server and a real Chromium for the browser tests.

Not pytest-django's live_server: its flush between tests would delete ledger
rows, which the ledger's append-only triggers refuse. One server per test
session instead, in a subprocess on a fresh database (SQLite in a temp dir, or
a fresh PostgreSQL database when the suite runs on PostgreSQL), seeded with the
demo through `kinshop demo --no-serve`.
"""

from __future__ import annotations

import pytest

from tests.browser import helpers


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    helpers.require_chromium()
    running = helpers.start_server(tmp_path_factory.mktemp("kinshop-browser"))
    try:
        yield running
    finally:
        helpers.stop_server(running)


@pytest.fixture(scope="session")
def browser(server):
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=helpers.CHROMIUM, args=helpers.CHROMIUM_ARGS
    )
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture
def new_context(browser, server):
    """Open browser contexts (phone or desktop) that are closed after the test,
    which fails if any page broke the Content-Security-Policy; a failing test
    leaves the server log's tail in its report."""
    contexts = []
    watched: list[list[str]] = []

    def open_context(kind: str = "phone"):
        options = helpers.PHONE if kind == "phone" else helpers.DESKTOP
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        watched.append(helpers.watch_csp_violations(context))
        return context

    yield open_context
    for context in contexts:
        context.close()
    # Every page the test went through satisfied the Content-Security-Policy.
    assert [v for found in watched for v in found] == []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    running = item.funcargs.get("server") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and running is not None:
        report.sections.append(("kinshop server log (tail)", running.log_tail()))
