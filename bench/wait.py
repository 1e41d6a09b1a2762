"""Wait until a bench server answers its trivial view: `python -m bench.wait PORT NAME`
exits 0 once GET /bench/trivial/ answers 200, or fails after 30 s naming the server."""

from __future__ import annotations

import sys
import time
import urllib.request


def main(port: str, name: str) -> None:
    url = f"http://127.0.0.1:{port}/bench/trivial/"
    for _ in range(150):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{name} did not answer within 30 s")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
