"""Texts built to break segmenting, matching or tokenizing: answered with exact offsets in
tests/serve/test_pathological.py, timed against size in benchmarks/reliability.py."""

from __future__ import annotations

N = 20_000  # characters: large enough to reach the windowed segmenting, small enough for `make test`

PATHOLOGICAL = {
    "no whitespace": "x" * N,
    "no whitespace, aliases glued": "SyriaTurkeyDamascusAnkara" * (N // 25),
    "runs of full stops": "." * N,
    "full stops between words": "Syria. " * (N // 7),
    "thousands of alias tokens": "Syria Turkey Ankara Damascus Washington al-Nusra " * (N // 50),
    "zero-width characters": "Sy\u200bria \u200d Tur\u200ckey \ufeff" * (N // 20),
    "right-to-left text": "\u0633\u0648\u0631\u064a\u0627 \u202eSyria\u202c \u062a\u0631\u0643\u064a\u0627. "
    * (N // 25),
    "combining marks": "Syri" + "a\u0301\u0302\u0303\u0304" * (N // 5),
    "NUL and control characters": "Syria\x00 spoke\x01\x02. Turkey\x7f replied.\x1b " * (N // 40),
    "emoji before mentions": "\U0001f1f8\U0001f1fe\U0001f600Syria \U0001f44d\U0001f3fdTurkey. " * (N // 25),
    "one long line of newlines": "\n" * N + "Syria spoke.",
    "only whitespace between mentions": "Syria\t\u00a0\u2003Turkey\u3000" * (N // 20),
}
