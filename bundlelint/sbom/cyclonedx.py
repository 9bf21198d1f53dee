"""An ``Inventory`` as a CycloneDX 1.6 JSON document, through cyclonedx-python-lib (the
CycloneDX project's own library: it owns the serialisation and ships the schemas tests validate
against). Imported only by ``bundlelint sbom``: the library takes tens of milliseconds to load.
"""

from __future__ import annotations

import datetime
import uuid

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from bundlelint import __version__
from bundlelint.analysis import components as model

_TYPES = {"application": ComponentType.APPLICATION, "framework": ComponentType.FRAMEWORK,
          "library": ComponentType.LIBRARY, "file": ComponentType.FILE}


def _component(c: model.Component) -> Component:
    props = list(c.properties)
    if c.path is not None:
        props.append((model.PROPERTY_PREFIX + "path", c.path))
    return Component(
        type=_TYPES[c.kind], name=c.name, version=c.version, bom_ref=c.ref,
        description=c.description,
        purl=PackageURL.from_string(c.purl) if c.purl else None,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=c.sha256)] if c.sha256 else [],
        properties=[Property(name=k, value=v) for k, v in props],
    )


def render_cyclonedx(inventory: model.Inventory, *, timestamp: datetime.datetime,
                     serial: uuid.UUID) -> str:
    """The CycloneDX 1.6 JSON text of ``inventory`` (the caller picks time and serial)."""
    root = _component(inventory.root)
    bom = Bom(serial_number=serial, metadata=BomMetaData(component=root, timestamp=timestamp))
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="bundlelint", version=__version__))
    by_ref = {root.bom_ref.value: root}
    for c in inventory.components:
        comp = _component(c)
        by_ref[c.ref] = comp
        bom.components.add(comp)
    for ref, depends_on in inventory.dependencies:
        if depends_on:
            bom.register_dependency(by_ref[ref], [by_ref[d] for d in depends_on])
    return JsonV1Dot6(bom).output_as_string(indent=2) + "\n"
