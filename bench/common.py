"""What the bench drivers share: Django set-up against the bench database and
the JSON files the phases hand each other."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def work_dir() -> Path:
    return Path(os.environ["BENCH_TMP"])


def save(name: str, data: Any) -> None:
    (work_dir() / f"{name}.json").write_text(json.dumps(data, indent=1))


def load(name: str) -> Any:
    return json.loads((work_dir() / f"{name}.json").read_text())


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]
