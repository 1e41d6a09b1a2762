"""Fixtures of the page tests, on top of the project's (conftest.py at the root)."""

from __future__ import annotations

import pytest

from kinshop import testing


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Page tests sign people up and in; a slow hash only slows them down.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def buyer(db):
    return testing.make_user("buyer")


@pytest.fixture
def sharer(db):
    return testing.make_user("sharer")


@pytest.fixture
def sku(product):
    return product.skus.get()
