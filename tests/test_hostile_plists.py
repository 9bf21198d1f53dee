"""Plist values built to explode whatever walks them (issue 15, items 5 and 6).

Each attack is built the way an attacker builds it: binary plists are written byte by byte with
shared object references (``plistlib.dumps`` never shares), the XML nesting is written as text.
Whole-command runs happen in a child process with a 2 GiB address-space limit and a timeout, so
a regression fails the test instead of eating the machine: before the bound, ``check`` grew past
10 GB in BL303's ``repr()``, ``inspect`` and ``plan`` hung or raised ``RecursionError``.
"""

from __future__ import annotations

import json
import plistlib
import resource
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from appbuilder import developer_id_like, make_app
from lintutil import by_rule, lint, rule_ids

from bundlelint.errors import ParseError
from bundlelint.parsers.codesign import parse_embedded_signature
from bundlelint.parsers.der_entitlements import parse_der_entitlements
from bundlelint.parsers.macho import parse_macho_bytes
from bundlelint.parsers.plist import check_value_bounds, parse_plist
from fixtures.der_entitlements import der_blob, der_payload

ALLOW_JIT = "com.apple.security.cs.allow-jit"
DISABLE_LV = "com.apple.security.cs.disable-library-validation"
#: The child's address-space limit: far above what a bounded run needs, far below the attack's.
CHILD_LIMIT = 2 << 30


def bplist(objects: list[bytes], root: int) -> bytes:
    """A ``bplist00`` file holding ``objects`` (already encoded, references one byte wide)."""
    assert len(objects) < 256
    body = b"bplist00"
    offsets = []
    for obj in objects:
        offsets.append(len(body))
        body += obj
    table_at = len(body)
    offset_size = 2 if table_at > 0xFF else 1
    body += b"".join(off.to_bytes(offset_size, "big") for off in offsets)
    return body + struct.pack(">6xBBQQQ", offset_size, 1, len(objects), root, table_at)


def _ascii(text: str) -> bytes:
    data = text.encode("ascii")
    assert len(data) < 15
    return bytes([0x50 | len(data)]) + data


def _array(refs: list[int]) -> bytes:
    if len(refs) < 15:
        return bytes([0xA0 | len(refs)]) + bytes(refs)
    return bytes([0xAF, 0x10, len(refs)]) + bytes(refs)


def billion_laughs(key: str = ALLOW_JIT, levels: int = 8, fan_out: int = 16,
                   pad: int = 17_000) -> bytes:
    """A dict ``{key: L8}`` where L(k) is an array of ``fan_out`` references to L(k-1) and L0 a
    string: 16^8 = 4.3e9 leaves once expanded, in ~17 KB (``pad`` bytes of leaf text make it the
    size of the reported file)."""
    leaf = b"\x5f\x11" + pad.to_bytes(2, "big") + b"A" * pad  # an ASCII string of pad chars
    objects = [leaf]
    for level in range(1, levels + 1):
        objects.append(_array([level - 1] * fan_out))
    objects.append(_ascii(key) if len(key) < 15 else bytes([0x5F, 0x10, len(key)])
                   + key.encode())
    objects.append(bytes([0xD1, levels + 1, levels]))  # {key: L8}
    data = bplist(objects, levels + 2)
    assert plistlib.loads(data)[key][0][0][0][0][0][0][0][0] == "A" * pad  # it is shared
    return data


def cyclic() -> bytes:
    """``{allow-jit: A}`` where A is an array whose only element is A itself."""
    return bplist([_array([0]), bytes([0x5F, 0x10, len(ALLOW_JIT)]) + ALLOW_JIT.encode(),
                   bytes([0xD1, 1, 0])], 2)


def deep_xml(depth: int = 100_000) -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>'
            b"<key>" + ALLOW_JIT.encode() + b"</key><true/><key>deep</key>"
            + b"<array>" * depth + b"</array>" * depth + b"</dict>\n</plist>\n")


def _signed_app(tmp_path: Path, entitlements: bytes, der: dict[str, Any] | None) -> Path:
    exe = developer_id_like(entitlements=entitlements,
                            der_entitlements=der_payload(der) if der is not None else None)
    return make_app(tmp_path, executable=exe)


def _run_bounded(*args: str) -> subprocess.CompletedProcess[str]:
    """``bundlelint ARGS`` in a child limited to CHILD_LIMIT bytes of address space and 120 s."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_LIMIT, CHILD_LIMIT))

    return subprocess.run([sys.executable, "-m", "bundlelint", *args], capture_output=True,
                          text=True, timeout=120, preexec_fn=limit, check=False)


# --- the bound itself ---------------------------------------------------------------------------


def test_billion_laughs_is_refused_in_time_proportional_to_the_file() -> None:
    data = billion_laughs()
    assert 16_000 < len(data) < 18_000
    with pytest.raises(ParseError) as caught:
        parse_plist(data, "x.plist", base=0x40)
    err = caught.value
    assert (err.path, err.offset) == ("x.plist", 0x40)
    assert "expand to more than" in err.reason and repr(ALLOW_JIT) in err.reason


def test_cycle_is_refused() -> None:
    value = plistlib.loads(cyclic())  # plistlib builds the cycle
    assert value[ALLOW_JIT][0] is value[ALLOW_JIT]
    with pytest.raises(ParseError, match="contains itself"):
        parse_plist(cyclic(), "x.plist")


@pytest.mark.parametrize("depth", [33, 100_000])
def test_deep_xml_is_refused(depth: int) -> None:
    with pytest.raises(ParseError, match="deeper than 32"):
        parse_plist(deep_xml(depth), "x.plist")


def test_depth_limit_is_the_der_limit_on_both_sides() -> None:
    """32 levels pass on the XML side and on the DER side; 33 fail on both."""
    def nested(depth: int) -> dict[str, Any]:
        value: Any = True
        for _ in range(depth):
            value = [value]
        return {"k": value}

    ok, too_deep = nested(31), nested(32)  # the root dict is level 0; its values level 1
    assert parse_plist(plistlib.dumps(ok), "x").value == ok
    assert parse_der_entitlements(der_blob(ok)).values == ok
    with pytest.raises(ParseError, match="deeper than 32"):
        parse_plist(plistlib.dumps(too_deep), "x")
    with pytest.raises(ParseError, match="deeper than 32"):
        parse_der_entitlements(der_blob(too_deep))


def test_shared_but_small_values_pass() -> None:
    """plistlib's own writer shares equal strings: that is not an attack."""
    value = {"a": ["same"] * 50, "b": {"c": "same"}}
    data = plistlib.dumps(value, fmt=plistlib.FMT_BINARY)
    assert parse_plist(data, "x").value == value
    check_value_bounds(value, len(data), "plist", "x", None)


def test_shared_container_deeper_on_second_use_is_refused() -> None:
    """A container first met shallow and then deep is held to the depth where it is deep."""
    inner: Any = True
    for _ in range(20):
        inner = [inner]
    outer: Any = inner
    for _ in range(20):
        outer = [outer]
    with pytest.raises(ParseError, match="deeper than 32"):
        check_value_bounds({"a": inner, "b": outer}, 10_000, "plist", "x", 0)


# --- every consumer -----------------------------------------------------------------------------


def test_entitlements_billion_laughs_with_different_der_check(tmp_path: Path) -> None:
    """The attack of item 5: binary-plist entitlements expanding to 16^8 leaves, DER present
    and different. The XML side becomes a BL302 finding naming the file and the payload's
    offset; nothing compares or prints the expansion; the DER side still feeds BL304."""
    app = _signed_app(tmp_path, billion_laughs(), {ALLOW_JIT: True, "other": "x"})
    proc = _run_bounded("check", "--format", "json", str(app))
    assert proc.returncode == 1, proc.stderr[-2000:]
    findings = json.loads(proc.stdout)["findings"]
    ids = {f["rule_id"] for f in findings}
    assert "BL003" not in ids
    [bl302] = [f for f in findings if f["rule_id"] == "BL302"]
    assert bl302["path"] == "Sample.app/Contents/MacOS/app"
    assert "expand to more than" in bl302["message"]
    exe = (app / "Contents/MacOS/app").read_bytes()
    sig = parse_macho_bytes(exe).slices[0].signature
    assert sig is not None and sig.entitlements is not None
    ent_blob = next(b for b in sig.blobs if b.slot == 5)
    assert bl302["offset"] == ent_blob.offset + 8
    assert "BL304" in ids  # allow-jit from the DER side


@pytest.mark.parametrize("command", ["inspect", "plan"])
@pytest.mark.parametrize("attack", ["billion_laughs", "cyclic"])
def test_entitlements_attacks_in_inspect_and_plan(tmp_path: Path, command: str,
                                                  attack: str) -> None:
    payload = billion_laughs() if attack == "billion_laughs" else cyclic()
    app = _signed_app(tmp_path, payload, {ALLOW_JIT: True})
    proc = _run_bounded(command, "--format", "json", str(app))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout)
    assert len(proc.stdout) < 100_000  # nothing expanded was printed
    if command == "inspect":
        text = json.dumps(doc)
        assert "AAAAAAAAAA" not in text


def test_control_character_key_does_not_break_plan(tmp_path: Path) -> None:
    """Binary-plist entitlements whose key holds \\x01: XML cannot hold it, so the plan leaves
    it out and says so, instead of raising ValueError."""
    key = "com.example.\x01evil"
    payload = plistlib.dumps({key: True, "com.apple.security.app-sandbox": True},
                             fmt=plistlib.FMT_BINARY)
    app = _signed_app(tmp_path, payload, None)
    proc = _run_bounded("plan", "--format", "json", str(app))
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    [main] = [e for e in doc["entitlements"] if e["for_path"] == ""]
    assert main["values"] == {"com.apple.security.app-sandbox": True}
    assert any("\\x01" in note for note in doc["notes"])


def test_deep_xml_entitlements_with_der(tmp_path: Path) -> None:
    """Item 6: XML entitlements nested 100,000 deep plus DER used to crash BL303-BL308 (BL003),
    which switched the allow-jit and library-validation checks off. Now the XML is a BL302
    finding with the payload's offset and the DER side still drives BL304 and BL306."""
    app = _signed_app(tmp_path, deep_xml(), {ALLOW_JIT: True, DISABLE_LV: True,
                                             "com.apple.security.get-task-allow": True})
    report = lint(app)
    ids = rule_ids(report)
    assert "BL003" not in ids
    [bl302] = by_rule(report, "BL302")
    assert "deeper than 32" in bl302.message and bl302.location.offset is not None
    assert {"BL301", "BL304", "BL306"} <= ids


def test_info_plist_billion_laughs(tmp_path: Path) -> None:
    info = billion_laughs(key="CFBundleDocumentTypes")
    proc = _run_bounded("check", "--format", "json", str(make_app(tmp_path, info=info)))
    findings = json.loads(proc.stdout)["findings"]
    assert "BL003" not in {f["rule_id"] for f in findings}
    [bl402] = [f for f in findings if f["rule_id"] == "BL402"]
    assert bl402["path"] == "Sample.app/Contents/Info.plist"
    assert bl402["offset"] == 0  # where the document starts: values carry no position
    assert "expand to more than" in bl402["message"]
    proc = _run_bounded("inspect", "--format", "json", str(make_app(tmp_path / "i", info=info)))
    assert proc.returncode == 0 and len(proc.stdout) < 100_000


def test_der_bounds_use_the_same_check() -> None:
    """The DER decoder is held to the same bounds (its own depth limit is the shared one)."""
    from bundlelint.options import MAX_VALUE_DEPTH
    from bundlelint.parsers import der_entitlements

    assert der_entitlements.MAX_DEPTH == MAX_VALUE_DEPTH


def test_signature_entitlements_error_names_offset() -> None:
    exe = developer_id_like(entitlements=cyclic())
    sig = parse_macho_bytes(exe).slices[0].signature
    assert sig is not None and sig.entitlements is not None
    ents = sig.entitlements
    assert ents.values is None and ents.error is not None and "contains itself" in ents.error
    ent_blob = next(b for b in sig.blobs if b.slot == 5)
    assert ents.error_offset == ent_blob.offset + 8
    # the same SuperBlob decoded from memory says the same
    again = parse_embedded_signature(exe[sig.offset: sig.offset + sig.length], base=sig.offset)
    assert again.entitlements == ents


def test_expected_entitlements_file_is_bounded_too(tmp_path: Path) -> None:
    """A configuration's expected-entitlements file is compared with the signature's: a deep
    or cyclic one is a usage error (exit 2), not a crash of the comparison."""
    for name, data in (("deep", deep_xml(1000)), ("cyclic", cyclic())):
        project = tmp_path / name
        project.mkdir()
        app = _signed_app(project, plistlib.dumps({ALLOW_JIT: True}), None)
        (project / "x.entitlements").write_bytes(data)
        (project / "bundlelint.toml").write_text(
            '[expected-entitlements]\n"Contents/MacOS/app" = "x.entitlements"\n')
        proc = subprocess.run([sys.executable, "-m", "bundlelint", "check", str(app)],
                              cwd=project, capture_output=True, text=True, timeout=120,
                              check=False)
        assert proc.returncode == 2, proc.stderr[-2000:]
        assert "is not a property list" in proc.stderr and "Traceback" not in proc.stderr
