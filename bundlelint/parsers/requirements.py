"""Code requirements: the Requirements SuperBlob (slot 2) and single Requirement blobs as text.

Why: a designated requirement is what macOS (keychain, TCC, XPC peers, the notary's checks)
compares code against, and users know it only in the text form ``codesign -d -r-`` prints. This
module decodes the bytecode (docs/formats.md section 3) and prints it the way Apple's ``reqdumper``
does, so a user can diff our output against theirs: the same keywords, the same quoting (bare
only when alphanumeric, not a keyword and not starting with a digit; dots allowed bare only in
keys and field names), ``H"..."`` hashes, slot names ``leaf``/``root``, dates as CFAbsoluteTime
(seconds since 2001-01-01 UTC) printed ``<YYYY-MM-DD HH:MM:SS +0000>``.

Every read goes through ``Reader``; every count and length is checked before use; expression
nesting is limited to ``MAX_DEPTH`` so a hostile blob cannot exhaust the stack. Opcodes the
dumper does not know raise ``ParseError`` unless their flag byte says they may be skipped.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from bundlelint.parsers.reader import Reader

CSMAGIC_REQUIREMENT = 0xFADE0C00
CSMAGIC_REQUIREMENTS = 0xFADE0C01
EXPR_FORM = 1

#: Requirement types (index type in the Requirements SuperBlob) as codesign names them.
REQUIREMENT_TYPES = {1: "host", 2: "guest", 3: "designated", 4: "library", 5: "plugin"}
DESIGNATED = 3

#: Deepest expression nesting we decode. Apple's own requirements are at most ~10 deep; a
#: drmaker-style chain of 256 ``and``/``or`` terms is far beyond anything codesign writes.
MAX_DEPTH = 256
#: More entries than this in a Requirements SuperBlob is hostile (there are 5 types).
MAX_REQUIREMENTS = 64

OP_FLAG_MASK = 0xFF000000
OP_GENERIC_FALSE = 0x80000000
OP_GENERIC_SKIP = 0x40000000

(
    OP_FALSE, OP_TRUE, OP_IDENT, OP_APPLE_ANCHOR, OP_ANCHOR_HASH, OP_INFO_KEY_VALUE, OP_AND,
    OP_OR, OP_CDHASH, OP_NOT, OP_INFO_KEY_FIELD, OP_CERT_FIELD, OP_TRUSTED_CERT,
    OP_TRUSTED_CERTS, OP_CERT_GENERIC, OP_APPLE_GENERIC_ANCHOR, OP_ENTITLEMENT_FIELD,
    OP_CERT_POLICY, OP_NAMED_ANCHOR, OP_NAMED_CODE, OP_PLATFORM, OP_NOTARIZED,
    OP_CERT_FIELD_DATE, OP_LEGACY_DEV_ID,
) = range(24)

(
    MATCH_EXISTS, MATCH_EQUAL, MATCH_CONTAINS, MATCH_BEGINS_WITH, MATCH_ENDS_WITH,
    MATCH_LESS_THAN, MATCH_GREATER_THAN, MATCH_LESS_EQUAL, MATCH_GREATER_EQUAL, MATCH_ON,
    MATCH_BEFORE, MATCH_AFTER, MATCH_ON_OR_BEFORE, MATCH_ON_OR_AFTER, MATCH_ABSENT,
) = range(15)

_DATA_MATCH = {
    MATCH_EQUAL: (" = ", ""),
    MATCH_CONTAINS: (" ~ ", ""),
    MATCH_BEGINS_WITH: (" = ", "*"),
    MATCH_ENDS_WITH: (" = *", ""),
    MATCH_LESS_THAN: (" < ", ""),
    MATCH_GREATER_THAN: (" > ", ""),
    MATCH_LESS_EQUAL: (" <= ", ""),
    MATCH_GREATER_EQUAL: (" >= ", ""),
}
_DATE_MATCH = {
    MATCH_ON: " = ",
    MATCH_BEFORE: " < ",
    MATCH_AFTER: " > ",
    MATCH_ON_OR_BEFORE: " <= ",
    MATCH_ON_OR_AFTER: " >= ",
}

#: Words of the requirement language; a value equal to one is quoted so the text re-parses.
KEYWORDS = frozenset({
    "guest", "host", "designated", "library", "plugin", "or", "and", "always", "true", "never",
    "false", "identifier", "cdhash", "platform", "notarized", "legacy", "anchor", "apple",
    "generic", "certificate", "cert", "trusted", "info", "entitlement", "exists", "absent",
    "leaf", "root", "timestamp",
})

#: CFAbsoluteTime 0 (the requirement language's date epoch).
CF_EPOCH = _dt.datetime(2001, 1, 1, tzinfo=_dt.UTC)

# Syntax levels for parenthesising (reqdumper): primary < and < or < top.
_SL_PRIMARY, _SL_AND, _SL_OR, _SL_TOP = range(4)

_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_DIGITS = frozenset(b"0123456789")
_SPACE = frozenset(b" \t\n\v\f\r")


@dataclass(frozen=True)
class Requirement:
    """One requirement: its type (3 = designated), where it is, and its text."""

    type: int
    offset: int  # absolute offset of the 0xFADE0C00 blob
    text: str

    @property
    def type_name(self) -> str:
        return REQUIREMENT_TYPES.get(self.type, f"/*unknown type*/ {self.type}")

    @property
    def line(self) -> str:
        """The line ``codesign -d -r-`` prints for it, e.g. ``designated => identifier ...``."""
        return f"{self.type_name} => {self.text}"


@dataclass(frozen=True)
class RequirementSet:
    """A decoded Requirements SuperBlob (0xFADE0C01), in index order."""

    offset: int
    requirements: tuple[Requirement, ...]

    @property
    def text(self) -> str:
        """What ``codesign -d -r-`` prints after its ``# designated => ...`` header lines."""
        return "".join(f"{r.line}\n" for r in self.requirements)

    @property
    def designated(self) -> Requirement | None:
        for req in self.requirements:
            if req.type == DESIGNATED:
                return req
        return None


def parse_requirements(data: bytes, *, path: str = "", base: int = 0) -> RequirementSet:
    """Decode a whole Requirements blob (header included); ``base`` is its absolute offset."""
    r = Reader(data, fmt="code requirements", path=path, base=base)
    magic = r.u32be(0, "Requirements magic")
    if magic != CSMAGIC_REQUIREMENTS:
        raise r.error(0, f"Requirements magic is {magic:#010x}, expected {CSMAGIC_REQUIREMENTS:#x}")
    length = r.u32be(4, "Requirements length")
    if length < 12 or length > len(r):
        raise r.error(4, f"Requirements length {length:#x} is outside 12..{len(r):#x}")
    sb = r.sub(0, length, "Requirements")
    count = sb.u32be(8, "Requirements count")
    if count > MAX_REQUIREMENTS or 12 + 8 * count > length:
        raise sb.error(8, f"Requirements count {count} does not fit in {length:#x} bytes")
    out: list[Requirement] = []
    for i in range(count):
        rtype = sb.u32be(12 + 8 * i, f"requirement {i} type")
        offset = sb.u32be(16 + 8 * i, f"requirement {i} offset")
        if offset < 12 + 8 * count or offset + 8 > length:
            raise sb.error(16 + 8 * i, f"requirement {i} offset {offset:#x} is outside the "
                           f"{length:#x}-byte Requirements blob")
        blen = sb.u32be(offset + 4, f"requirement {i} length")
        if blen < 12 or offset + blen > length:
            raise sb.error(offset + 4, f"requirement {i} length {blen:#x} runs past the end of "
                           f"the Requirements blob ({length:#x})")
        blob = sb.sub(offset, blen, f"requirement {i}")
        out.append(Requirement(type=rtype, offset=blob.base + blob.start,
                               text=_requirement_text(blob)))
    return RequirementSet(offset=base, requirements=tuple(out))


def parse_requirement(data: bytes, *, path: str = "", base: int = 0) -> str:
    """The text of a single Requirement blob (0xFADE0C00, header included)."""
    r = Reader(data, fmt="code requirement", path=path, base=base)
    length = r.u32be(4, "Requirement length")
    if length < 12 or length > len(r):
        raise r.error(4, f"Requirement length {length:#x} is outside 12..{len(r):#x}")
    return _requirement_text(r.sub(0, length, "Requirement"))


def _requirement_text(r: Reader) -> str:
    magic = r.u32be(0, "Requirement magic")
    if magic != CSMAGIC_REQUIREMENT:
        raise r.error(0, f"Requirement magic is {magic:#010x}, expected {CSMAGIC_REQUIREMENT:#x}")
    kind = r.u32be(8, "Requirement kind")
    if kind != EXPR_FORM:
        raise r.error(8, f"Requirement kind {kind} is not 1 (expression form)")
    dumper = _Dumper(r)
    dumper.expr(_SL_TOP, 0)
    return "".join(dumper.out)


def format_value(value: bytes, *, dot_okay: bool = False) -> str:
    """A data operand as reqdumper prints it: bare, ``"quoted"`` or ``0x<hex>``."""
    mode = "simple"
    for i, byte in enumerate(value):
        if byte in _ALNUM or (dot_okay and byte == 0x2E):
            if i == 0 and byte in _DIGITS:
                mode = "printable"  # a bare token cannot start with a digit
        elif 0x21 <= byte <= 0x7E or byte in _SPACE:
            mode = "printable"
        else:
            mode = "binary"
            break
    if mode == "simple" and (not value or value.decode("ascii") in KEYWORDS):
        mode = "printable"
    if mode == "simple":
        return value.decode("ascii")
    if mode == "printable":
        text = value.decode("ascii").replace("\\", "\\\\").replace('"', '\\"')
        return f'"{text}"'
    return "0x" + value.hex()


def oid_text(content: bytes) -> str:
    """Dotted text of OID content octets (no tag or length), as Apple's CssmOid prints it."""
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        return ""
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def format_cf_date(seconds: int) -> str:
    """CFAbsoluteTime ``seconds`` as ``<2001-01-01 00:00:00 +0000>`` (out of range: raw)."""
    try:
        when = CF_EPOCH + _dt.timedelta(seconds=seconds)
    except OverflowError:
        return f"<CFAbsoluteTime {seconds}>"
    return "<" + when.strftime("%Y-%m-%d %H:%M:%S +0000") + ">"


class _Dumper:
    """Walks one Requirement's expression, appending text (reqdumper's ``Dumper``)."""

    def __init__(self, r: Reader) -> None:
        self.r = r
        self.pc = 12  # after magic, length, kind
        self.out: list[str] = []

    def u32(self, what: str) -> int:
        value = self.r.u32be(self.pc, what)
        self.pc += 4
        return value

    def i32(self, what: str) -> int:
        value = self.u32(what)
        return value - (1 << 32) if value & 0x80000000 else value

    def data(self, what: str) -> bytes:
        at = self.pc
        length = self.u32(f"{what} length")
        if length > len(self.r) - self.pc:
            raise self.r.error(at, f"{what} length {length:#x} runs past the end of the "
                               f"{len(self.r):#x}-byte requirement")
        value = self.r.bytes(self.pc, length, what)
        self.pc += (length + 3) & ~3
        return value

    def value(self, what: str, *, dot_okay: bool = False) -> None:
        self.out.append(format_value(self.data(what), dot_okay=dot_okay))

    def hash_data(self, what: str) -> None:
        self.out.append(f'H"{self.data(what).hex()}"')

    def slot(self) -> None:
        slot = self.i32("certificate slot")
        self.out.append(" leaf" if slot == 0 else " root" if slot == -1 else f" {slot}")

    def expr(self, level: int, depth: int) -> None:
        at = self.pc
        if depth >= MAX_DEPTH:
            raise self.r.error(at, f"requirement expression nests deeper than {MAX_DEPTH}")
        word = self.u32("opcode")
        op = word & ~OP_FLAG_MASK
        emit = self.out.append
        if op == OP_FALSE:
            emit("never")
        elif op == OP_TRUE:
            emit("always")
        elif op == OP_IDENT:
            emit("identifier ")
            self.value("identifier")
        elif op == OP_APPLE_ANCHOR:
            emit("anchor apple")
        elif op == OP_APPLE_GENERIC_ANCHOR:
            emit("anchor apple generic")
        elif op == OP_ANCHOR_HASH:
            emit("certificate")
            self.slot()
            emit(" = ")
            self.hash_data("certificate hash")
        elif op == OP_INFO_KEY_VALUE:
            emit("info[")
            self.value("info key", dot_okay=True)
            emit("] = ")
            self.value("info value")
        elif op in (OP_AND, OP_OR):
            inner = _SL_AND if op == OP_AND else _SL_OR
            if level < inner:
                emit("(")
            self.expr(inner, depth + 1)
            emit(" and " if op == OP_AND else " or ")
            self.expr(inner, depth + 1)
            if level < inner:
                emit(")")
        elif op == OP_NOT:
            emit("! ")
            self.expr(_SL_PRIMARY, depth + 1)
        elif op == OP_CDHASH:
            emit("cdhash ")
            self.hash_data("cdhash")
        elif op in (OP_INFO_KEY_FIELD, OP_ENTITLEMENT_FIELD):
            emit("info[" if op == OP_INFO_KEY_FIELD else "entitlement[")
            self.value("key", dot_okay=True)
            emit("]")
            self.match()
        elif op == OP_CERT_FIELD:
            emit("certificate")
            self.slot()
            emit("[")
            self.value("certificate field", dot_okay=True)
            emit("]")
            self.match()
        elif op in (OP_CERT_GENERIC, OP_CERT_POLICY, OP_CERT_FIELD_DATE):
            prefix = {OP_CERT_GENERIC: "field.", OP_CERT_POLICY: "policy.",
                      OP_CERT_FIELD_DATE: "timestamp."}[op]
            emit("certificate")
            self.slot()
            emit(f"[{prefix}{oid_text(self.data('OID'))}]")
            self.match()
        elif op == OP_TRUSTED_CERT:
            emit("certificate")
            self.slot()
            emit(" trusted")
        elif op == OP_TRUSTED_CERTS:
            emit("anchor trusted")
        elif op == OP_NAMED_ANCHOR:
            emit("anchor apple ")
            self.value("anchor name")
        elif op == OP_NAMED_CODE:
            emit("(")
            self.value("code name")
            emit(")")
        elif op == OP_PLATFORM:
            emit(f"platform = {self.i32('platform')}")
        elif op == OP_NOTARIZED:
            emit("notarized")
        elif op == OP_LEGACY_DEV_ID:
            emit("legacy")
        elif word & (OP_GENERIC_FALSE | OP_GENERIC_SKIP):
            self.data(f"opcode {op} operand")  # its size field lets us step over it
            if word & OP_GENERIC_FALSE:
                emit(f" false /* opcode {op} */")
            else:
                emit(f" /* opcode {op} */")
        else:
            raise self.r.error(at, f"unknown requirement opcode {word:#x}")

    def match(self) -> None:
        at = self.pc
        op = self.u32("match operation")
        if op == MATCH_EXISTS:
            self.out.append(" /* exists */")
        elif op == MATCH_ABSENT:
            self.out.append(" absent ")
        elif op in _DATA_MATCH:
            before, after = _DATA_MATCH[op]
            self.out.append(before)
            self.value("match value")
            self.out.append(after)
        elif op in _DATE_MATCH:
            seconds = self.r.u64be(self.pc, "match date")
            self.pc += 8
            if seconds & (1 << 63):
                seconds -= 1 << 64
            self.out.append(_DATE_MATCH[op] + format_cf_date(seconds))
        else:
            raise self.r.error(at, f"unknown match operation {op}")


def designated_requirement_text(data: bytes | None, *, path: str = "",
                                base: int = 0) -> str | None:
    """The designated requirement's text, ``None`` if there is none; raises ``ParseError``."""
    if data is None:
        return None
    req = parse_requirements(data, path=path, base=base).designated
    return None if req is None else req.text

