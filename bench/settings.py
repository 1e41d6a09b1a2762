"""Bench-only settings: production settings plus one trivial reference view
(`/bench/trivial/`), so the app's own code and URLs stay untouched."""

from kinshop.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
