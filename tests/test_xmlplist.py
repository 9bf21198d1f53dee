"""The fast XML plist reader gives exactly plistlib's value, or steps aside (``None``).

Three properties, each checked against plistlib itself:
- any value plistlib can write (dates aside) is read back by the fast path, equal to plistlib's;
- a document mutated byte by byte is never accepted where plistlib refuses it, and when both
  accept it the values are equal;
- on a seal the size of a real app's, the fast path is the one that runs (not the fallback).
"""

from __future__ import annotations

import datetime
import plistlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundlelint.errors import ParseError
from bundlelint.parsers.plist import parse_plist
from bundlelint.parsers.xmlplist import MAX_DEPTH, parse_xml_plist
from fuzz.targets import same_plist

# plistlib refuses control characters in strings (it writes them nowhere) and folds \r to \n.
_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\n&<>]"),
                max_size=12)
_SCALARS = (_TEXT | st.binary(max_size=40) | st.booleans()
            | st.integers(min_value=-(2 ** 63), max_value=2 ** 64 - 1)
            | st.floats(allow_nan=False))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(_TEXT, inner, max_size=4), max_leaves=30)


def _files_entry() -> st.SearchStrategy[Any]:
    digest = st.binary(min_size=20, max_size=20)
    return st.one_of(
        digest,
        st.fixed_dictionaries({"hash": digest, "hash2": st.binary(min_size=32, max_size=32)},
                              optional={"optional": st.booleans()}),
        st.fixed_dictionaries({"cdhash": digest, "requirement": _TEXT}),
        st.fixed_dictionaries({"symlink": _TEXT}),
    )


_SEALS = st.fixed_dictionaries({
    "files": st.dictionaries(_TEXT, _files_entry(), max_size=6),
    "files2": st.dictionaries(_TEXT, _files_entry(), max_size=6),
    "rules2": st.dictionaries(_TEXT, st.just(True) | st.fixed_dictionaries(
        {"weight": st.floats(0, 3000), "omit": st.booleans()}), max_size=3),
})


@settings(max_examples=300, deadline=None)
@given(_VALUES | _SEALS)
def test_everything_plistlib_writes_is_read_back_equal(value: Any) -> None:
    doc = plistlib.dumps(value)
    fast = parse_xml_plist(doc)
    assert fast is not None, doc[:300]
    assert same_plist(fast, plistlib.loads(doc))


def _agrees(doc: bytes) -> None:
    """fast(doc) is None, or plistlib accepts doc and gives the same value."""
    fast = parse_xml_plist(doc)
    try:
        expected = plistlib.loads(doc)
    except Exception:
        assert fast is None, doc
        return
    if fast is not None:
        assert same_plist(fast, expected), doc


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_SEALS, st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255),
                                  st.sampled_from(("replace", "insert", "delete"))),
                        min_size=1, max_size=3))
def test_mutated_documents_are_never_accepted_where_plistlib_refuses(
        value: Any, edits: list[tuple[int, int, str]]) -> None:
    doc = bytearray(plistlib.dumps(value))
    for where, byte, how in edits:
        at = where % (len(doc) + 1)
        if how == "insert":
            doc[at:at] = bytes([byte])
        elif at < len(doc):
            if how == "replace":
                doc[at] = byte
            else:
                del doc[at]
    _agrees(bytes(doc))


@pytest.mark.parametrize("doc", [
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>a</key></dict>'
    b"</plist>",  # a key without a value
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><string>a]]>b</string></plist>',
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><string>&#65;</string></plist>',
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><string>&bogus;</string>'
    b"</plist>",
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><string>a\x01</string></plist>',
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><string>a</string></plist>x',
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><true/><true/></plist>',
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><array><key>k</key>'
    b"<true/></array></plist>",
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict></array></plist>',
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><data>QQ</data></plist>',
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><integer>x</integer></plist>',
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><!-- c --><true/></plist>',
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><string>\xff</string></plist>',
    b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><date>2020-01-01T00:00:00Z'
    b"</date></plist>",
])
def test_outside_the_subset_the_fast_path_steps_aside(doc: bytes) -> None:
    assert parse_xml_plist(doc) is None
    _agrees(doc)


def test_deep_nesting_is_left_to_plistlib() -> None:
    deep: Any = True
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    doc = plistlib.dumps(deep)
    assert parse_xml_plist(doc) is None
    with pytest.raises(ParseError, match="deeper than"):  # plistlib reads it; the bound refuses
        parse_plist(doc, "deep.plist")
    shallow = plistlib.dumps([[[True]]])
    assert parse_xml_plist(shallow) == [[[True]]]


def test_dates_still_parse_through_plistlib() -> None:
    when = datetime.datetime(2026, 11, 26, 12, 0, 0)
    doc = plistlib.dumps({"signed": when, "files2": {}})
    assert parse_plist(doc, "x.plist").value == {"signed": when, "files2": {}}


def test_a_large_seal_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    seal = {
        "files": {f"Resources/p{i % 50}/f{i}.dat": bytes([i % 256]) * 20 for i in range(3000)},
        "files2": {f"Resources/p{i % 50}/f{i}.dat": {"hash": bytes(20), "hash2": bytes(32)}
                   for i in range(3000)},
        "rules2": {"^Resources/": {"weight": 20.0}, "^.*": True},
    }
    seal["files2"]["Frameworks/A.framework"] = {"cdhash": bytes(20), "requirement": 'cdhash H"00"'}
    seal["files2"]["Resources/link"] = {"symlink": "p1/f1.dat"}
    seal["files2"]["Resources/en.lproj/x.strings"] = {"hash2": bytes(32), "optional": True}
    doc = plistlib.dumps(seal)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("plistlib was used")

    monkeypatch.setattr("plistlib.loads", refuse)
    assert parse_plist(doc, "CodeResources").value == seal
