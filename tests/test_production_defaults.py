"""What a production deployment gets without asking (issue 10, item 9): secure
cookies and HSTS unless KINSHOP_HTTPS=0, a Content-Security-Policy the pages
satisfy, the API's docs for operators only, and the API's error format for a
body over the upload limit."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from kinshop import testing
from kinshop.core import device

ROOT = Path(__file__).resolve().parent.parent


def _settings_under(env: dict[str, str]) -> dict:
    """The security settings a fresh process computes from this environment."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({name: getattr(settings, name) for name in ("
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', "
        "'SECURE_PROXY_SSL_HEADER')}))"
    )
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KINSHOP_HTTPS", "DEBUG", "KINSHOP_HSTS"))
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "kinshop.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_debug_cookies_are_secure_and_hsts_is_on_by_default():
    production = _settings_under({"DEBUG": "0"})
    plain_http = _settings_under({"DEBUG": "0", "KINSHOP_HTTPS": "0"})
    demo = _settings_under({"DEBUG": "1"})

    assert production == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 3600,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }
    assert plain_http["SESSION_COOKIE_SECURE"] is False
    assert plain_http["CSRF_COOKIE_SECURE"] is False
    assert plain_http["SECURE_HSTS_SECONDS"] == 0
    assert demo["SESSION_COOKIE_SECURE"] is False and demo["SECURE_HSTS_SECONDS"] == 0


@pytest.mark.django_db
def test_an_https_request_gets_hsts_and_secure_cookies(settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 365 * 24 * 3600

    response = Client().get("/accounts/sign-in/", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000"
    assert response.cookies[device.COOKIE_NAME]["secure"] is True
    assert response.cookies["csrftoken"]["secure"] is True


@pytest.mark.django_db
def test_every_page_carries_a_policy_without_inline_script_or_style():
    response = Client().get("/")
    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )

    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in policy


# What the policy refuses, looked for in every template Kinshop ships (Django's
# own admin templates are Django's; the browser tests watch the console there).
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"),
    "event handler attribute": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_no_template_has_inline_script_style_or_event_handlers():
    templates = [
        path
        for path in (ROOT / "kinshop").rglob("*.html")
        if "templates" in path.parts and "static" not in path.parts
    ]
    found = [
        f"{path.relative_to(ROOT)}: {kind}"
        for path in templates
        for kind, pattern in INLINE.items()
        if pattern.search(path.read_text())
    ]

    assert len(templates) > 20
    assert found == []


@pytest.mark.django_db
def test_the_api_docs_are_for_signed_in_operators(settings):
    settings.KINSHOP_PUBLIC_API_DOCS = False
    buyer, operator = Client(), Client()
    buyer.force_login(testing.make_user("ann"))
    operator.force_login(testing.make_operator("boss"))

    anonymous = Client().get("/api/v1/docs")

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/?next=/api/v1/docs")
    assert buyer.get("/api/v1/docs").status_code == 302
    page = operator.get("/api/v1/docs")
    assert page.status_code == 200
    assert b"swagger" in page.content.lower()
    assert b"cdn." not in page.content  # Swagger UI is served by Kinshop
    assert Client().get("/api/v1/openapi.json").status_code == 200  # the contract stays public


@pytest.mark.django_db
def test_public_api_docs_when_asked_for(settings):
    settings.KINSHOP_PUBLIC_API_DOCS = True

    assert Client().get("/api/v1/docs").status_code == 200


@pytest.mark.django_db
def test_an_api_body_over_the_limit_is_a_json_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"username": "ann", "password": "x" * 2000})

    response = Client().post("/api/v1/accounts", body, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {
        "code": "body_too_large",
        "message": "The request body is too large.",
    }
