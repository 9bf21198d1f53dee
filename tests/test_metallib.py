"""metallib header parser: fields of a built library, strict size and bounds checks, hostile
input gives a ParseError or a listed problem, never an exception of another kind."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bundlelint.errors import ParseError
from bundlelint.parsers.metallib import HEADER_SIZE, parse_metallib
from fixtures.metallib_builder import MetallibSpec, build_metallib


def test_fields_of_a_built_library() -> None:
    data = build_metallib(MetallibSpec(target_os_version=(14, 4)))
    lib = parse_metallib(data[:HEADER_SIZE], len(data), "x.metallib")
    assert lib.problems == ()
    assert lib.is_macos_platform and lib.targets_macos is True
    assert (lib.version, lib.target_os_version) == ((2, 7), (14, 4))
    assert lib.library_type_name == "executable" and lib.target_os_name == "macOS"
    assert lib.declared_size == len(data)
    assert [s.name for s in lib.sections] == ["function list", "public metadata",
                                              "private metadata", "bitcode"]
    assert lib.sections[0].offset == HEADER_SIZE
    assert sum(s.size for s in lib.sections) == len(data) - HEADER_SIZE


def test_wrong_magic_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as err:
        parse_metallib(b"MTLX" + b"\0" * 100, 104, "x")
    assert err.value.offset == 0 and "MTLB" in err.value.reason


def test_section_inside_header_and_past_end() -> None:
    data = bytearray(build_metallib())
    struct.pack_into("<QQ", data, 40, 8, 4)  # public metadata inside the header
    struct.pack_into("<QQ", data, 72, 1 << 62, 1 << 62)  # bitcode far past the end
    lib = parse_metallib(bytes(data[:HEADER_SIZE]), len(data), "x")
    assert [off for off, _ in lib.problems] == [40, 72]


@given(st.binary(min_size=0, max_size=HEADER_SIZE + 8), st.integers(0, 1 << 64))
def test_hostile_headers_never_crash(tail: bytes, size: int) -> None:
    header = (b"MTLB" + tail)[:HEADER_SIZE]
    try:
        lib = parse_metallib(header, size, "x")
    except ParseError as err:
        assert err.offset == 0
    else:
        assert all(0 <= off < HEADER_SIZE for off, _ in lib.problems)
