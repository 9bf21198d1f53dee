"""BL0xx and BL1xx rules: parse errors, unsupported input, SDK and platform load commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from appbuilder import developer_id_like, make_app
from lintutil import by_rule, lint, rule_ids

from fixtures.macho_builder import MachOSpec, build_macho


def _file(tmp_path: Path, data: bytes, name: str = "tool") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"#!/bin/sh\necho hi\n", "not a Mach-O"),
        (b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + b"\0" * 64, "not a Mach-O"),  # Java class file
    ],
)
def test_bl002_fires_on_non_macho_input(tmp_path: Path, content: bytes, expected: str) -> None:
    report = lint(_file(tmp_path, content, "input.bin"))
    [finding] = by_rule(report, "BL002")
    assert expected in finding.message
    assert finding.location.path == "input.bin"
    assert finding.location.offset == 0


def test_bl002_quiet_on_macho(tmp_path: Path) -> None:
    assert not by_rule(lint(_file(tmp_path, developer_id_like())), "BL002")


def test_bl001_truncated_mid_load_commands_names_file_and_offset(tmp_path: Path) -> None:
    data = build_macho(MachOSpec())
    truncated = data[:32 + 40]  # header plus part of the first load command
    app = make_app(tmp_path, files={"Contents/Frameworks/libcut.dylib": truncated})
    [finding] = by_rule(lint(app), "BL001")
    assert finding.location.path == "Sample.app/Contents/Frameworks/libcut.dylib"
    assert finding.location.offset is not None and 0 <= finding.location.offset <= 32 + 40
    assert "sizeofcmds" in finding.message or "load command" in finding.message


def test_bl001_bad_signature_names_arch_and_offset(tmp_path: Path) -> None:
    data = bytearray(developer_id_like())
    sig_off = bytes(data).rfind(b"\xfa\xde\x0c\xc0")
    data[sig_off + 4 : sig_off + 8] = (0x7FFFFFFF).to_bytes(4, "big")  # SuperBlob length lies
    [finding] = by_rule(lint(_file(tmp_path, bytes(data))), "BL001")
    assert finding.location.arch == "arm64"
    assert finding.location.offset == sig_off + 4
    assert "SuperBlob length" in finding.message


def test_bl001_quiet_on_valid_file(tmp_path: Path) -> None:
    assert not by_rule(lint(_file(tmp_path, developer_id_like())), "BL001")


@pytest.mark.parametrize(
    ("spec", "sdk_text"),
    [
        (MachOSpec(build_version=None, version_min=((10, 7, 0), (10, 7, 0))), "10.7"),
        (MachOSpec(build_version=(1, (10, 6, 0), (10, 8, 0))), "10.8"),
        (MachOSpec(build_version=(1, (10, 6, 0), (0, 0, 0))), "n/a"),
    ],
)
def test_bl101_fires_on_old_sdk(tmp_path: Path, spec: MachOSpec, sdk_text: str) -> None:
    [finding] = by_rule(lint(_file(tmp_path, developer_id_like(spec))), "BL101")
    assert f"SDK {sdk_text} " in finding.message


def test_bl101_quiet_at_exactly_10_9(tmp_path: Path) -> None:
    spec = MachOSpec(build_version=None, version_min=((10, 9, 0), (10, 9, 0)))
    assert not by_rule(lint(_file(tmp_path, developer_id_like(spec))), "BL101")


def test_bl102_fires_without_platform_command(tmp_path: Path) -> None:
    spec = MachOSpec(build_version=None, version_min=None)
    report = lint(_file(tmp_path, developer_id_like(spec)))
    [finding] = by_rule(report, "BL102")
    assert "no LC_BUILD_VERSION or LC_VERSION_MIN_MACOSX" in finding.message


def test_bl102_quiet_with_build_version(tmp_path: Path) -> None:
    report = lint(_file(tmp_path, developer_id_like()))
    assert not rule_ids(report) & {"BL101", "BL102"}
