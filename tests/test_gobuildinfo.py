"""Go build info: real binaries compared with ``go version -m`` field by field, the pointer
format on a synthetic slice, stripped binaries recognised by their runtime string, hostile
input."""

from __future__ import annotations

import base64
import io
import json
import struct
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import toolchain
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bundlelint.analysis.golang import go_info
from bundlelint.bundle import open_input
from bundlelint.errors import ParseError
from bundlelint.parsers.gobuildinfo import (
    MAGIC,
    MODINFO_END,
    MODINFO_START,
    GoBuildInfo,
    GoModule,
    find_runtime_version,
    go_quote,
    go_unquote,
    is_go_slice,
    parse_go_buildinfo,
    parse_modinfo,
)
from bundlelint.parsers.macho import Section, Segment, parse_macho_bytes
from fixtures.macho_builder import MachOSpec, build_macho


def _go_version_m(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([toolchain.go_executable(), "version", "-m", str(path)],
                          capture_output=True, text=True, check=False)


def _ours(path: Path) -> list[GoBuildInfo | None]:
    bundle = open_input(path)
    entry = bundle.entries[0]
    macho = bundle.macho(entry)
    with open(path, "rb") as fh:
        return [parse_go_buildinfo(fh, sl, entry.display) for sl in macho.slices]


def _assert_same_as_go(path: Path) -> GoBuildInfo:
    """Compare our parse with `go version -m` line by line and field by field."""
    proc = _go_version_m(path)
    assert proc.returncode == 0, proc.stderr
    head, *rest = proc.stdout.splitlines()
    [info] = _ours(path)
    assert info is not None
    assert head == f"{path}: {info.go_version}"
    assert rest == [f"\t{line}" for line in info.lines()]
    # Field by field, independently of our formatter: split go's own lines.
    go_settings = {}
    go_deps = {}
    for line in rest:
        cols = line[1:].split("\t")
        if cols[0] == "build" and not cols[1].startswith(('"', "`")):
            key, _, value = cols[1].partition("=")
            if not value.startswith('"'):
                go_settings[key] = value
        elif cols[0] == "path":
            assert info.path == cols[1]
        elif cols[0] == "mod":
            assert info.main is not None and (info.main.path, info.main.version) == tuple(cols[1:3])
        elif cols[0] == "dep":
            go_deps[cols[1]] = cols[2]
    for key, value in go_settings.items():
        assert info.setting(key) == value, key
    assert {d.path: d.version for d in info.deps} == go_deps
    return info


pytestmark = pytest.mark.toolchain


def test_pure_go_arm64_matches_go_version_m(go_hello_arm64: Path) -> None:
    info = _assert_same_as_go(go_hello_arm64)
    assert info.format == "inline"
    assert info.setting("CGO_ENABLED") == "0"
    assert info.setting("GOOS") == "darwin" and info.setting("GOARCH") == "arm64"
    assert info.setting("-trimpath") == "true"
    assert info.path == "command-line-arguments" and info.main is None


def test_pure_go_amd64_matches_go_version_m(go_hello_amd64: Path) -> None:
    info = _assert_same_as_go(go_hello_amd64)
    assert info.setting("GOARCH") == "amd64"


def test_cgo_build_matches_go_version_m(go_cgo_arm64: Path) -> None:
    info = _assert_same_as_go(go_cgo_arm64)
    assert info.setting("CGO_ENABLED") == "1"


@pytest.mark.parametrize("cgo", [False, True])
def test_toolkit_app_with_replace_and_quoted_ldflags(cgo: bool, request: pytest.FixtureRequest
                                                     ) -> None:
    path: Path = request.getfixturevalue("go_fyne_cgo_arm64" if cgo else "go_fyne_nocgo_arm64")
    info = _assert_same_as_go(path)
    # go prints the value quoted (it has spaces); the model holds it unquoted
    assert info.setting("-ldflags") == "-w -X 'main.version=1.0 beta'"
    assert info.setting("CGO_ENABLED") == ("1" if cgo else "0")
    dep = info.dep("fyne.io/fyne/v2")
    assert dep is not None and dep.version == "v2.5.0"
    assert dep.replace is not None and dep.replace.path == "./fyne.io/fyne/v2"
    assert info.main is not None and info.main.path == "example.com/fyneapp"
    bundle = open_input(path)
    [go] = go_info(bundle, bundle.entries[0])
    assert go is not None and [tk.name for tk in go.toolkits] == ["Fyne"]
    assert go.toolkits[0].version == "v2.5.0" and go.cgo_enabled is cgo


def test_universal_go_file_per_slice(fat_go_hello: Path, go_hello_arm64: Path,
                                     go_hello_amd64: Path) -> None:
    # go version -m refuses fat files; each slice must equal its thin original
    arm, amd = _ours(fat_go_hello)
    assert arm is not None and amd is not None
    for ours, thin in ((arm, go_hello_arm64), (amd, go_hello_amd64)):
        [expected] = _ours(thin)
        assert expected is not None
        assert (ours.go_version, ours.lines()) == (expected.go_version, expected.lines())
    assert {arm.setting("GOARCH"), amd.setting("GOARCH")} == {"arm64", "amd64"}


def test_non_go_binary_is_not_go(zig_main_arm64: Path) -> None:
    bundle = open_input(zig_main_arm64)
    macho = bundle.macho(bundle.entries[0])
    assert not is_go_slice(macho.slices[0])
    assert go_info(bundle, bundle.entries[0]) == (None,)


@pytest.mark.realbin
def test_lefthook_matches_go_version_m() -> None:
    from realbins import fetch

    path = fetch("lefthook-darwin-arm64")
    info = _assert_same_as_go(path)
    assert info.go_version == "go1.27.0"
    assert info.path == "github.com/evilmartians/lefthook/v2"
    assert info.setting("CGO_ENABLED") == "0" and info.setting("-trimpath") == "true"
    assert info.setting("vcs") == "git" and len(info.deps) == 51


@pytest.mark.realbin
@pytest.mark.parametrize("name", ["esbuild-darwin-arm64", "esbuild-darwin-x64"])
def test_esbuild_is_go_without_build_info(name: str) -> None:
    from realbins import fetch

    path = fetch(name)
    proc = _go_version_m(path)
    assert proc.returncode != 0 and "not a Go executable" in proc.stderr
    assert _ours(path) == [None]
    bundle = open_input(path)
    [info] = go_info(bundle, bundle.entries[0])
    assert info is not None
    assert info.go_version == "go1.26.5" and info.version_source == "runtime string"
    assert info.build_info is None and info.cgo_enabled is None and info.toolkits == ()


# --- synthetic slices: the pointer format (Go <= 1.17) and hostile headers ------------------

DATA_VMADDR = 0x200000000
DATA_FILEOFF = 0x10000


def _modinfo(text: str) -> bytes:
    return MODINFO_START + text.encode() + MODINFO_END


def _slice_with_data(data: bytes) -> tuple[io.BytesIO, object]:
    """A thin arm64 file with ``data`` at DATA_FILEOFF, and its slice model plus a fake RW
    ``__DATA`` segment with a ``__go_buildinfo`` section mapping DATA_VMADDR there."""
    base = build_macho(MachOSpec())
    blob = base.ljust(DATA_FILEOFF, b"\0") + data
    sl = parse_macho_bytes(blob).slices[0]
    sect = Section("__DATA", "__go_buildinfo", DATA_VMADDR, len(data), DATA_FILEOFF)
    seg = Segment("__DATA", DATA_VMADDR, len(data), DATA_FILEOFF, len(data), 3, 3, (sect,))
    return io.BytesIO(blob), replace(sl, segments=(*sl.segments, seg), size=len(blob))


def _pointer_blob(version: bytes, mod: bytes, ptr: int = 8) -> bytes:
    """Header at 0, then version string header at 0x40, modinfo header at 0x50, data after."""
    fmt = "<Q" if ptr == 8 else "<I"
    v_hdr, m_hdr, v_data = 0x40, 0x40 + 2 * ptr, 0x80
    m_data = v_data + len(version)
    head = MAGIC + bytes([ptr, 0]) + struct.pack(fmt, DATA_VMADDR + v_hdr) + struct.pack(
        fmt, DATA_VMADDR + m_hdr)
    out = bytearray(head.ljust(v_hdr, b"\0"))
    out += struct.pack(fmt, DATA_VMADDR + v_data) + struct.pack(fmt, len(version))
    out += struct.pack(fmt, DATA_VMADDR + m_data) + struct.pack(fmt, len(mod))
    out = out.ljust(v_data, b"\0") + version + mod
    return bytes(out)


def test_pointer_format_is_read_through_segments() -> None:
    text = ("path\texample.com/old\nmod\texample.com/old\tv1.0.0\th1:abc=\n"
            "dep\tgioui.org\tv0.0.0-2021\th1:x=\nbuild\tCGO_ENABLED=1\n")
    fh, sl = _slice_with_data(_pointer_blob(b"go1.16.15", _modinfo(text)))
    info = parse_go_buildinfo(fh, sl, "old")  # type: ignore[arg-type]
    assert info is not None and info.format == "pointer"
    assert info.go_version == "go1.16.15" and info.offset == DATA_FILEOFF
    assert info.main is not None and info.main.sum == "h1:abc="
    assert info.dep("gioui.org") is not None and info.setting("CGO_ENABLED") == "1"


def test_pointer_into_pagezero_is_an_error_with_offset() -> None:
    blob = bytearray(_pointer_blob(b"go1.16", _modinfo("path\tx\n")))
    struct.pack_into("<Q", blob, 16, 0x1000)  # version string header inside __PAGEZERO
    fh, sl = _slice_with_data(bytes(blob))
    with pytest.raises(ParseError) as err:
        parse_go_buildinfo(fh, sl, "bad")  # type: ignore[arg-type]
    assert err.value.offset == DATA_FILEOFF + 16 and "not in the file" in err.value.reason


def test_inline_length_past_the_segment_is_an_error() -> None:
    head = MAGIC + bytes([8, 2]) + b"\0" * 16
    data = head + bytes([8]) + b"go1.22.0" + b"\xff\xff\x03"  # modinfo length 65535
    fh, sl = _slice_with_data(data)
    with pytest.raises(ParseError) as err:
        parse_go_buildinfo(fh, sl, "bad")  # type: ignore[arg-type]
    assert err.value.offset == DATA_FILEOFF + 32 + 9


def test_unaligned_magic_is_not_build_info() -> None:
    fh, sl = _slice_with_data(b"\0" * 8 + MAGIC + bytes([8, 2]) + b"\0" * 32)
    assert parse_go_buildinfo(fh, sl, "x") is None  # type: ignore[arg-type]


def test_modinfo_without_sentinel_newline_means_no_module_info() -> None:
    head = MAGIC + bytes([8, 2]) + b"\0" * 16
    fh, sl = _slice_with_data(head + bytes([6]) + b"go1.22" + bytes([3]) + b"abc")
    info = parse_go_buildinfo(fh, sl, "x")  # type: ignore[arg-type]
    assert info is not None and info.go_version == "go1.22" and info.modinfo == ""


def test_runtime_string_found_in_rodata_and_highest_wins() -> None:
    rodata = b"xxgo1.21\0" + b"C" + b"go1.22.7" + b"\0go1.9\0"
    data = build_macho(MachOSpec())
    blob = data.ljust(DATA_FILEOFF, b"\0") + rodata
    sl = parse_macho_bytes(blob).slices[0]
    sect = Section("__TEXT", "__rodata", DATA_VMADDR, len(rodata), DATA_FILEOFF)
    seg = Segment("__TEXT2", DATA_VMADDR, len(rodata), DATA_FILEOFF, len(rodata), 5, 5, (sect,))
    sl = replace(sl, segments=(*sl.segments, seg), size=len(blob))
    assert find_runtime_version(io.BytesIO(blob), sl) == ("go1.22.7", DATA_FILEOFF + 10)


# --- modinfo lines and Go quoting -----------------------------------------------------------


@pytest.mark.parametrize(("line", "reason"), [
    ("build\t=x", "missing key"),
    ("build\tnokey", "missing '='"),
    ('build\t"k"x', "missing '=' after quoted key"),
    ("build\tk=a b", "must be quoted"),
    ('build\tk="unterminated', "invalid quoted value"),
    ("dep\tonly-one-column", "expected 2 or 3 columns"),
    ("=>\tx\tv1\th1:x=", "replacement with no module"),
    ("dep\ta\tv1\n=>\tx\tv1", "expected 3 columns for replacement; got 2"),
])
def test_malformed_modinfo_lines(line: str, reason: str) -> None:
    text = "path\tp\n" + line + "\n"
    with pytest.raises(ParseError) as err:
        parse_modinfo(text, path="f", base=100)
    failing_line = line.split("\n")[-1]
    assert reason in err.value.reason
    assert err.value.offset == 100 + len(text) - len(failing_line) - 1


def test_quoted_keys_and_values_are_decoded() -> None:
    _, _, _, settings = parse_modinfo(
        'build\t"we=ird"="a\\tb \\u00e9"\nbuild\t-tags=`x y`\nbuild\tempty=\n')
    assert settings == (("we=ird", "a\tb \u00e9"), ("-tags", "x y"), ("empty", ""))


@given(st.text(max_size=40))
def test_go_quote_round_trips(text: str) -> None:
    assert go_unquote(go_quote(text)) == text


@given(st.text(alphabet=st.sampled_from("path\tmod\tdep=>build\n\"`\\ xv1"), max_size=200))
def test_modinfo_parser_never_crashes(text: str) -> None:
    try:
        parse_modinfo(text, path="f", base=0)
    except ParseError as err:
        assert err.offset is not None and 0 <= err.offset <= len(text.encode())


def test_toolkit_kinds_from_dependencies() -> None:
    """The four known toolkits come with their facts; other GUI modules are kind "other";
    a module that only starts with a toolkit's name is neither."""
    from bundlelint.analysis.golang import detect_other_toolkits, detect_toolkits

    text = ("path\tex.com/app\nmod\tex.com/app\t(devel)\t\n"
            "dep\tgioui.org\tv0.8.0\th1:a=\n"
            "dep\tgithub.com/webview/webview_go\tv0.0.0-2024\th1:b=\n"
            "dep\tgithub.com/progrium/darwinkit\tv0.5.0\n=>\t../darwinkit\t(devel)\t\n"
            "dep\tgioui.org.evil/x\tv1.0.0\th1:c=\n")
    main_path, main, deps, settings = parse_modinfo(text)
    info = GoBuildInfo("go1.24.0", main_path, main, deps, settings, "inline", 0, text)
    [gio] = detect_toolkits(info)
    assert (gio.name, gio.version, gio.replaced_by) == ("Gio", "v0.8.0", None)
    others = detect_other_toolkits(info)
    assert [(o.name, o.module, o.version, o.replaced_by) for o in others] == [
        ("webview", "github.com/webview/webview_go", "v0.0.0-2024", None),
        ("DarwinKit", "github.com/progrium/darwinkit", "v0.5.0", "../darwinkit")]


_COLUMN = st.text(alphabet=st.characters(blacklist_characters="\t\n",
                                         blacklist_categories=("Cs",)), max_size=12)
_PLAIN = st.builds(GoModule, _COLUMN, _COLUMN, _COLUMN)
#: Go prints no sum for a module that is replaced (BuildInfo.String's formatMod), so one that
#: round-trips has none.
_REPLACED = st.builds(lambda p, v, r: GoModule(p, v, "", r), _COLUMN, _COLUMN, _PLAIN)
_MODULE = st.one_of(_PLAIN, _REPLACED)


@given(path=st.text(alphabet=st.characters(blacklist_characters="\n",
                                           blacklist_categories=("Cs",)), max_size=20),
       main=st.one_of(st.none(), _MODULE.filter(lambda m: bool(m.path or m.version or m.sum
                                                               or m.replace))),
       deps=st.lists(_MODULE, max_size=4),
       settings=st.lists(st.tuples(st.text(max_size=10), st.text(max_size=16)), max_size=5))
def test_lines_parse_back_to_the_same_build_info(path: str, main: GoModule | None,
                                                 deps: list[GoModule],
                                                 settings: list[tuple[str, str]]) -> None:
    """BuildInfo.String and ParseBuildInfo are inverses (runtime/debug/mod.go): what ``lines``
    writes, quoting keys and values as strconv.Quote does, ``parse_modinfo`` reads back."""
    info = GoBuildInfo("go1.24.0", path, main, tuple(deps), tuple(settings), "inline", 0, "")
    text = "".join(f"{line}\n" for line in info.lines())
    assert parse_modinfo(text) == (path, main, tuple(deps), tuple(settings))


# --- Go's own ParseBuildInfo and String as the oracle ---------------------------------------

#: Pieces that exercise every branch of ParseBuildInfo: line kinds, tabs, quotes, escapes
#: (valid and not), '=' in keys, UTF-8 that \x escapes spell, characters Quote escapes.
_PIECES = ["path\t", "mod\t", "dep\t", "=>\t", "build\t", "\t", "\n", "=", '"', "`", "\\",
           "\\x", "\\xc3\\xa9", "\\u00e9", "\\U0001F600", "\\ud800", "\\377", "\\'", "\\q",
           "\\n", " ", "é", "\u00a0", "\u202e", "\x7f", "\x01", "\x85", "\u2028", "\ue000",
           "\ufffe", "\U0001f600", "\u0301", "v1.2.3", "h1:abc=", "-ldflags", "CGO_ENABLED",
           "k", "x y"]
_MODINFO_TEXT = st.lists(st.one_of(st.sampled_from(_PIECES),
                                   st.text(alphabet="ab\t\n=\"`\\ ", max_size=4)),
                         max_size=30).map("".join)


@given(texts=st.lists(_MODINFO_TEXT, min_size=20, max_size=40))
@example(texts=[  # Go strings are bytes: \x and octal escapes spell UTF-8 byte by byte
    'build\tk="a\\xc3\\xa9 b"\n', 'build\tk="\\303\\251 \\x01"\n', 'build\tk="\\xff x"\n',
    'build\t"k\\u00e9 "=`raw\r value`\n', 'build\tk="\\ud800"\n', 'build\tk="\\U0001F600 "\n',
    'mod\t\t\t\n', 'dep\ta\tv1\n=>\tb\tv2\n', 'path\tp\tq\nbuild\tk=\u00a0\x85\n'])
@settings(max_examples=15, deadline=None)
def test_modinfo_parse_and_format_agree_with_go(texts: list[str]) -> None:
    """Each text through Go's runtime/debug.ParseBuildInfo and BuildInfo.String (a small
    program built with the toolchain) and through ours: both refuse it, or both accept it and
    print the same bytes."""
    oracle = toolchain.go_modinfo_oracle()
    texts = [t.replace("\0", "") for t in texts]
    done = subprocess.run([str(oracle)], input="\0".join(texts).encode(), capture_output=True,
                          check=True)
    for text, go in zip(texts, json.loads(done.stdout), strict=True):
        try:
            path, main, deps, settings_ = parse_modinfo(text)
        except ParseError as err:
            assert "error" in go, (text, err)
            continue
        assert "error" not in go, (text, go["error"])
        ours = GoBuildInfo("", path, main, deps, settings_, "inline", 0, text)
        expected = base64.b64decode(go["string"])
        assert "".join(f"{line}\n" for line in ours.lines()).encode(
            "utf-8", "surrogateescape") == expected, text
