"""In-suite property tests: every fuzz target accepts arbitrary and mutated bytes without any
exception but ``ParseError`` (the long, coverage-guided runs live in fuzz/run.py)."""

from __future__ import annotations

import plistlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.macho_builder import MachOSpec, build_fat, build_macho
from fixtures.signer import CS_RUNTIME, sign_macho
from fuzz.targets import TARGETS, run_one

SIGNED = sign_macho(build_macho(MachOSpec()), identifier="com.example.fuzz", flags=CS_RUNTIME,
                    team_id="ABCDE12345", entitlements={"a": True}, hash_types=(1, 2))
SEEDS: dict[str, list[bytes]] = {
    "macho": [SIGNED, build_fat([build_macho(MachOSpec(arch="x86_64")), SIGNED])],
    "codesign": [SIGNED[SIGNED.rfind(b"\xfa\xde\x0c\xc0"):]],
    "plist": [plistlib.dumps({"k": [1, "v", {"n": 2.5}]}),
              plistlib.dumps({"k": [1, "v"]}, fmt=plistlib.FMT_BINARY)],
}
INTERESTING_U32 = [b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff",
                   b"\x00\x00\x00\x01"]
FUZZ_SETTINGS = settings(max_examples=150, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", sorted(TARGETS))
@FUZZ_SETTINGS
@given(data=st.binary(max_size=2048))
def test_random_bytes(name: str, data: bytes) -> None:
    run_one(TARGETS[name], data)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    buf = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "u32"]))
        pos = draw(st.integers(0, max(len(buf) - 1, 0)))
        if op == "flip" and buf:
            buf[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del buf[pos:]
        elif op == "insert":
            buf[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "u32" and len(buf) >= pos + 4:
            buf[pos:pos + 4] = draw(st.sampled_from(INTERESTING_U32))
    return bytes(buf)


@pytest.mark.parametrize(("name", "index"),
                         [(n, i) for n, seeds in sorted(SEEDS.items()) for i in range(len(seeds))])
@FUZZ_SETTINGS
@given(data=st.data())
def test_mutated_seeds(name: str, index: int, data: st.DataObject) -> None:
    run_one(TARGETS[name], data.draw(mutated(SEEDS[name][index])))


def test_every_target_has_seeds() -> None:
    assert set(SEEDS) == set(TARGETS)
