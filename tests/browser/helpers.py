"""What the browser tests share: a real Kinshop server in a subprocess, a JSON
client for its API, and the page checks every screen must pass."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support import databases

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "kinshop-demo"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "screenshots"
PHONE = {
    "viewport": {"width": 360, "height": 780},
    "locale": "zh-CN",
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 1,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}
ERROR_TEXTS = ("Traceback", "Server Error", "TemplateSyntaxError", "NoReverseMatch")


def require_chromium() -> None:
    """Skip the calling module when there is no Chromium or Playwright, with the
    reason; under CI=true that is a failure instead, so CI never goes green
    without the browser proof."""
    problem = ""
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (install Chromium to run the browser tests)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed (pip install -e '.[dev]')"
    if not problem:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run under CI=true: {problem}", pytrace=False)
    pytest.skip(f"browser tests skipped: {problem}", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A Kinshop server on a fresh database, seeded with the demo."""

    base_url: str
    env: dict[str, str]
    var_dir: Path
    log_path: Path
    process: subprocess.Popen | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    def manage(self, *args: str, timeout: float = 120) -> str:
        """Run `python -m kinshop <args>` against this server's database."""
        done = subprocess.run(
            [sys.executable, "-m", "kinshop", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        with self.log_path.open("a") as log:
            log.write(f"\n$ kinshop {' '.join(args)}\n{done.stdout}{done.stderr}")
        assert done.returncode == 0, f"kinshop {' '.join(args)} failed:\n{done.stderr[-3000:]}"
        return done.stdout

    def run_jobs(self) -> dict[str, int]:
        out = self.manage("run-jobs")
        return {
            name: int(count)
            for name, count in re.findall(r"^(\w+): (\d+)$", out, flags=re.MULTILINE)
        }

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    # ---- API ----

    def token(self, username: str, password: str = PASSWORD) -> str:
        if username not in self.tokens:
            response = httpx.post(
                f"{self.base_url}/api/v1/auth/tokens",
                json={"username": username, "password": password},
                timeout=30,
            )
            assert response.status_code == 201, response.text
            self.tokens[username] = response.json()["token"]
        return self.tokens[username]

    def api(self, method: str, path: str, *, as_: str | None = None, **kwargs) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if as_:
            headers["Authorization"] = f"Bearer {self.token(as_)}"
        return httpx.request(
            method, f"{self.base_url}/api/v1{path}", headers=headers, timeout=30, **kwargs
        )


def start_server(var_dir: Path) -> Server:
    """Migrate, seed the demo and serve it on a free port, in subprocesses, with
    the settings the journey needs: the payment sandbox on and zero-day windows
    (settlement happens only when a test runs `kinshop run-jobs`)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KINSHOP_", "DJANGO_")) and key != "DATABASE_URL"
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "kinshop.settings",
            "KINSHOP_VAR_DIR": str(var_dir),
            "KINSHOP_PAYMENT_SANDBOX": "1",
            "KINSHOP_AFTER_SALES_DAYS": "0",
            "KINSHOP_AUTO_CONFIRM_DAYS": "0",
            "KINSHOP_PUBLIC_URL": base_url,
            "DEBUG": "0",
            "KINSHOP_HTTPS": "0",  # the test server speaks plain HTTP
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
    )
    outer = os.environ.get("DATABASE_URL", "")
    if outer.startswith("postgres"):
        env["DATABASE_URL"] = databases.with_database(outer, f"kinshop_browser_{os.getpid()}")
    server = Server(base_url=base_url, env=env, var_dir=var_dir, log_path=var_dir / "server.log")
    if outer.startswith("postgres"):
        databases.migrated_database(outer, _database_name(env["DATABASE_URL"]))
    else:
        server.manage("migrate", "--no-input", "-v", "0")
    server.manage("demo", "--no-serve")
    log = server.log_path.open("a")
    server.process = subprocess.Popen(
        # the production server (uvicorn, ASGI), so live rooms stream as they do in production
        [sys.executable, "-m", "kinshop", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{server.log_tail()}")
        try:
            if httpx.get(f"{base_url}/", timeout=2).status_code < 500:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop_server(server)
            raise RuntimeError(f"the server did not answer in 30 s:\n{server.log_tail()}")
        time.sleep(0.2)


def stop_server(server: Server) -> None:
    if server.process is not None and server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)
    outer = os.environ.get("DATABASE_URL", "")
    if outer.startswith("postgres") and server.env.get("DATABASE_URL"):
        databases.drop_database(outer, _database_name(server.env["DATABASE_URL"]))


def _database_name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?", 1)[0]


# ---- page helpers ----


def sign_in(page, server: Server, username: str, next_url: str = "/") -> None:
    """Sign in through the sign-in page, as a person would."""
    page.goto(f"{server.base_url}/accounts/sign-in/?next={next_url}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=sign-in]")
    assert "/accounts/sign-in/" not in page.url, f"sign-in as {username} failed: {body_text(page)}"


def body_text(page) -> str:
    return page.inner_text("body")[:2000]


def assert_clean(page, response, *, what: str) -> None:
    """The page answered 200 and shows no error text."""
    assert response is not None, f"{what}: no response"
    assert response.status == 200, f"{what}: HTTP {response.status} at {page.url}"
    text = page.content()
    for error in ERROR_TEXTS:
        assert error not in text, f"{what}: the page shows {error!r}"


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than its viewport (0 if none)."""
    return page.evaluate(
        "() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )


def widest_elements(page, limit: int = 5) -> list[str]:
    """The elements that stick out to the right, to say what overflows."""
    return page.evaluate(
        """(limit) => {
            const width = document.documentElement.clientWidth;
            const out = [];
            for (const el of document.querySelectorAll('body *')) {
                const box = el.getBoundingClientRect();
                if (box.right > width + 1 && box.width > 0) {
                    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                        (el.className && typeof el.className === 'string' ?
                         '.' + el.className.trim().split(/\\s+/).join('.') : '');
                    out.push(name + ' right=' + Math.round(box.right));
                }
                if (out.length >= limit) break;
            }
            return out;
        }""",
        limit,
    )


def data_fen(page, testid: str) -> int:
    value = page.get_attribute(f"[data-testid={testid}]", "data-fen")
    assert value is not None, f"[data-testid={testid}] has no data-fen"
    return int(value)


def keep_screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def watch_csp_violations(target) -> list[str]:
    """Collect what Chromium reports about the Content-Security-Policy (a
    refused inline script, style or handler) on a page or a whole context."""
    violations: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(f"{message.type}: {message.text[:300]}")

    target.on("console", on_console)
    return violations
