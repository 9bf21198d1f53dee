"""Schema checks for ``bundlelint sbom`` output, shared by tests/test_sbom.py and the output
property test: CycloneDX through cyclonedx-python-lib's strict JSON validator (the schema it
ships), SPDX 2.3 through the official schema in tests/schemas plus what that schema leaves out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

SPDX_SCHEMA = Path(__file__).resolve().parent / "schemas" / "spdx-2.3.schema.json"
SPDX_ID = re.compile(r"^SPDXRef-[A-Za-z0-9.\-]+$")
SPDX_CREATED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def assert_valid_cyclonedx(text: str) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error
    doc = json.loads(text)
    refs = [c["bom-ref"] for c in doc.get("components", [])]
    refs.append(doc["metadata"]["component"]["bom-ref"])
    assert len(refs) == len(set(refs))
    for dep in doc["dependencies"]:  # every edge names a component of the document
        assert dep["ref"] in refs and set(dep.get("dependsOn", [])) <= set(refs)


def assert_valid_spdx(text: str) -> None:
    import jsonschema

    doc = json.loads(text)
    validator = jsonschema.Draft7Validator(json.loads(SPDX_SCHEMA.read_text()))
    errors = sorted(validator.iter_errors(doc), key=str)
    assert not errors, [e.message for e in errors[:5]]
    # What the schema does not check (SPDX 2.3 clauses 7.2, 6.9, 6.5, 11.1):
    ids = [p["SPDXID"] for p in doc["packages"]]
    assert len(ids) == len(set(ids)) and all(SPDX_ID.match(i) for i in ids)
    assert SPDX_CREATED.match(doc["creationInfo"]["created"])
    assert "#" not in doc["documentNamespace"]
    assert doc["documentNamespace"].startswith("https://")
    known = set(ids) | {"SPDXRef-DOCUMENT"}
    for rel in doc["relationships"]:
        assert {rel["spdxElementId"], rel["relatedSpdxElement"]} <= known
