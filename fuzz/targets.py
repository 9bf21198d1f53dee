"""One fuzz target per parser: feed arbitrary bytes, allow only ``ParseError`` out.

The same targets serve the coverage-guided atheris harness (``fuzz/run.py``) and the in-suite
hypothesis property tests (``tests/test_fuzz_targets.py``). A target returning normally or raising
``ParseError`` is fine; anything else is a bug, and every crash found becomes a regression test.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable

from bundlelint.errors import ParseError
from bundlelint.parsers.codesign import parse_embedded_signature
from bundlelint.parsers.macho import parse_macho
from bundlelint.parsers.plist import parse_plist

Target = Callable[[bytes], object]


def fuzz_macho(data: bytes) -> object:
    return parse_macho(io.BytesIO(data), len(data), "fuzz.macho")


def fuzz_codesign(data: bytes) -> object:
    return parse_embedded_signature(data, path="fuzz.sig")


def fuzz_plist(data: bytes) -> object:
    return parse_plist(data, "fuzz.plist")


TARGETS: dict[str, Target] = {
    "macho": fuzz_macho,
    "codesign": fuzz_codesign,
    "plist": fuzz_plist,
}


def run_one(target: Target, data: bytes) -> None:
    """Run ``target`` on ``data``; re-raise anything that is not a ``ParseError``."""
    with contextlib.suppress(ParseError):
        target(data)
