"""Where a phase's CPU went: `python -m bench.cpu mark NAME SERVER_PID` saves
the CPU seconds used so far by the app server (its master and every worker)
and by PostgreSQL (all its processes), so that the report can give a
checkout's cost per process. The load generator counts its own (bench/load.py).
Linux only (/proc); elsewhere the mark is empty and the report leaves it out."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from bench.common import save

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _processes() -> list[tuple[int, int, str, float]]:
    """(pid, parent pid, name, CPU seconds) of every process we may read."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # The name is in parentheses and may hold spaces: split after it.
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
        found.append((int(entry.name), int(fields[1]), name, seconds))
    return found


def usage(server_pid: int) -> dict[str, float]:
    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, parent, _, _ in processes:
        children.setdefault(parent, []).append(pid)
    tree, stack = set(), [server_pid]
    while stack:
        pid = stack.pop()
        tree.add(pid)
        stack.extend(children.get(pid, []))
    return {
        "server": sum(seconds for pid, _, _, seconds in processes if pid in tree),
        "postgres": sum(
            seconds for _, _, name, seconds in processes if name.startswith("postgres")
        ),
        "at": time.monotonic(),
    }


def main() -> None:
    _, command, name, server_pid = sys.argv
    assert command == "mark"
    save(f"cpu_{name}", usage(int(server_pid)) if Path("/proc/self/stat").exists() else {})


if __name__ == "__main__":
    main()
