"""A claimed code-signature size is never an allocation (issue 15, item 7).

The attack: a Mach-O whose LC_CODE_SIGNATURE claims datasize 0xF0000000 in a sparse 4 GB file
(nothing is written on disk). Before the fix, the whole claimed range was read into memory
(3.9 GB RSS). Now only the SuperBlob header, its index and the blobs it names are read, and a
SuperBlob claiming more than Apple's 40 MiB kernel limit is refused with the offset of its
length field. Each run is a child process (its peak RSS measured with ``getrusage``) under a
2 GiB address-space limit, so a regression fails instead of exhausting the machine.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

from appbuilder import developer_id_like

from bundlelint.options import MAX_SIGNATURE_BYTES
from bundlelint.parsers.macho import LC_CODE_SIGNATURE, parse_macho_bytes

CLAIMED = 0xF000_0000
#: Far above what parsing a small signature needs (the interpreter and imports: ~60 MB), far
#: below the claimed size.
RSS_LIMIT_KB = 300 * 1024

#: Runs ``bundlelint ARGS`` in a grandchild and prints its peak RSS. The grandchild is spawned
#: by this small interpreter, not by pytest: Linux carries the parent's peak RSS into a child's
#: ``ru_maxrss`` across fork and exec, which would measure the test runner instead.
_MEASURE = """
import resource, subprocess, sys

def limit():
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

proc = subprocess.run([sys.executable, "-m", "bundlelint", *sys.argv[1:]], preexec_fn=limit)
usage = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write("\\nRSS_KB=%d EXIT=%d\\n" % (usage, proc.returncode))
"""


def _sparse_attack(tmp_path: Path, *, superblob_claims: int | None = None) -> tuple[Path, int]:
    """A signed Mach-O whose LC_CODE_SIGNATURE datasize is patched to CLAIMED and whose file is
    extended (sparse, by truncate) to cover it; returns the path and the signature offset."""
    data = bytearray(developer_id_like())
    sl = parse_macho_bytes(bytes(data)).slices[0]
    assert sl.code_signature is not None and sl.signature is not None
    lc = next(c for c in sl.load_commands if c.cmd == LC_CODE_SIGNATURE)
    struct.pack_into("<I", data, lc.offset + 12, CLAIMED)
    dataoff = sl.code_signature.dataoff
    if superblob_claims is not None:
        struct.pack_into(">I", data, dataoff + 4, superblob_claims)
    path = tmp_path / "huge"
    path.write_bytes(bytes(data))
    with path.open("r+b") as fh:
        fh.truncate(dataoff + CLAIMED)  # a hole: no disk space, 4 GB of zeros to a reader
    return path, dataoff


def _check(path: Path) -> tuple[list[dict[str, object]], int]:
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, "check", "--format", "json", "--jobs", "1",
         "--select", "BL0,BL2", str(path)],
        capture_output=True, text=True, timeout=300, check=False)
    tail = proc.stderr.rsplit("RSS_KB=", 1)
    assert len(tail) == 2, proc.stderr[-3000:]
    rss_kb = int(tail[1].split()[0])
    return json.loads(proc.stdout)["findings"], rss_kb


def test_huge_datasize_reads_only_the_indexed_blobs(tmp_path: Path) -> None:
    path, _ = _sparse_attack(tmp_path)
    assert path.stat().st_size > 4_000_000_000
    assert path.stat().st_blocks * 512 < 10_000_000  # really sparse
    findings, rss_kb = _check(path)
    assert rss_kb < RSS_LIMIT_KB
    ids = {f["rule_id"] for f in findings}
    assert "BL003" not in ids and "BL001" not in ids  # the real signature inside still parses
    assert "BL201" not in ids  # ... and is seen as a signature


def test_superblob_claiming_more_than_apple_loads_is_refused(tmp_path: Path) -> None:
    path, dataoff = _sparse_attack(tmp_path, superblob_claims=CLAIMED)
    findings, rss_kb = _check(path)
    assert rss_kb < RSS_LIMIT_KB
    [bl001] = [f for f in findings if f["rule_id"] == "BL001"]
    assert bl001["offset"] == dataoff + 4  # the SuperBlob's length field
    assert "40 MiB" in str(bl001["message"])
    assert "BL003" not in {f["rule_id"] for f in findings}


def test_cap_is_apples() -> None:
    assert MAX_SIGNATURE_BYTES == 40 * 1024 * 1024  # xnu CS_MAX_BLOB_SIZE (kern_descrip.c)
