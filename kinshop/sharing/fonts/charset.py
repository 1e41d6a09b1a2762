"""Print the characters kept in the poster font subset (see README.md)."""

import contextlib
import sys


def charset() -> str:
    chars: set[str] = set()
    # GB2312 rows 1-9 (symbols) and 16-55 (level-1 hanzi).
    for row in [*range(0xA1, 0xAA), *range(0xB0, 0xD8)]:
        for column in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes([row, column]).decode("gb2312"))
    chars |= {chr(c) for c in range(0x20, 0x7F)}
    chars |= {chr(c) for c in range(0x3000, 0x3040)}
    chars |= {chr(c) for c in range(0xFF01, 0xFF5F)}
    chars |= {chr(c) for c in range(0x2010, 0x2040)}
    chars |= set("¥€£·×÷°±…—–“”‘’《》【】\u3000")
    return "".join(sorted(chars))


if __name__ == "__main__":
    sys.stdout.write(charset())
