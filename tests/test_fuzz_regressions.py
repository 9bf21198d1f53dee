"""Every crash the fuzzers found, kept as a regression test (inputs in tests/fuzz_regressions,
named ``<target>-<what>-<hash>``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bundlelint.parsers.der_entitlements import decode_real
from fuzz.targets import TARGETS, run_one

CASES = sorted((Path(__file__).parent / "fuzz_regressions").iterdir())


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_crash_input_now_gives_a_parse_error_or_a_result(path: Path) -> None:
    run_one(TARGETS[path.name.split("-")[0]], path.read_bytes())


@pytest.mark.parametrize(("contents", "value"), [
    (b"", 0.0),
    (b"\x80\x00\x03", 3.0),  # binary, base 2, exponent 0, mantissa 3
    (b"\xc0\xff\x03", -1.5),  # negative, exponent -1
    (b"\x40", float("inf")),
    (b"\x03" + b"1.25E1", 12.5),  # decimal NR3
])
def test_asn1_real_decoding(contents: bytes, value: float) -> None:
    assert decode_real(contents) == value


@pytest.mark.parametrize("contents", [b"\xb0\x00", b"\x83", b"\x44", b"\x03abc"])
def test_malformed_asn1_real_is_a_value_error(contents: bytes) -> None:
    with pytest.raises(ValueError):
        decode_real(contents)
