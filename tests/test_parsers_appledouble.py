"""The AppleDouble parser reads copyfile's layout and fails only with ParseError."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundlelint.errors import ParseError
from bundlelint.parsers.appledouble import MAX_ATTRS, parse_appledouble
from fixtures.appledouble_builder import FINDER_INFO, PROVENANCE_ONLY, build_appledouble


def test_xattrs_only() -> None:
    double = parse_appledouble(build_appledouble(
        {**PROVENANCE_ONLY, "com.apple.quarantine": b"0083;1;Safari;"}))
    assert double.xattr_names == ("com.apple.provenance", "com.apple.quarantine")
    assert not double.has_resource_fork and not double.finder_info_nonzero
    assert double.detritus == ()


def test_resource_fork_and_finder_info() -> None:
    double = parse_appledouble(build_appledouble(finder_info=FINDER_INFO, resource_fork=b"rsrc"))
    assert double.resource_fork_length == 4
    assert double.finder_info_nonzero
    assert double.detritus == ("com.apple.ResourceFork", "com.apple.FinderInfo")


def test_detritus_stored_as_attributes() -> None:
    double = parse_appledouble(build_appledouble({"com.apple.FinderInfo": FINDER_INFO,
                                                  "com.apple.ResourceFork": b""}))
    # an empty fork is ignored (unix++.cpp checkFork), non-zero FinderInfo is not
    assert double.detritus == ("com.apple.FinderInfo",)
    zero = parse_appledouble(build_appledouble({"com.apple.FinderInfo": bytes(32)}))
    assert zero.detritus == ()


def test_finder_info_without_attribute_header() -> None:
    data = (struct.pack(">II16xH", 0x00051607, 0x00020000, 1)
            + struct.pack(">III", 9, 0x26, 32) + FINDER_INFO)
    double = parse_appledouble(data)
    assert double.finder_info_nonzero and double.xattr_names == ()


def test_errors_name_path_and_offset() -> None:
    good = build_appledouble(PROVENANCE_ONLY)
    with pytest.raises(ParseError) as err:
        parse_appledouble(good[:0x60], "A.app/._x")
    assert (err.value.path, err.value.offset) == ("A.app/._x", 0x32)
    bad = bytearray(good)
    struct.pack_into(">H", bad, 0x54 + 34, MAX_ATTRS + 1)  # the ATTR header's count
    with pytest.raises(ParseError, match="over the limit") as err:
        parse_appledouble(bytes(bad))
    assert err.value.offset == 0x54 + 34
    with pytest.raises(ParseError) as err:
        parse_appledouble(b"\0\5\26\7\0\1\0\0" + bytes(18))
    assert err.value.offset == 4 and "version" in err.value.reason


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=512), cut=st.integers(0, 400), seed=st.sampled_from([
    build_appledouble(PROVENANCE_ONLY),
    build_appledouble({"com.apple.FinderInfo": FINDER_INFO}, resource_fork=b"r" * 8)]))
def test_never_raises_anything_but_parse_error(data: bytes, cut: int, seed: bytes) -> None:
    for candidate in (data, seed[:cut] + data, seed[:cut] + data + seed[cut:]):
        try:
            parse_appledouble(candidate, "x/._y")
        except ParseError as err:
            assert err.path == "x/._y"
