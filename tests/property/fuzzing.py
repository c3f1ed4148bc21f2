"""What the property tests share: settings, JSON-like values, valid documents and their mutations.

Random JSON rarely gets past a parser's first type check, so most documents here start valid — the
Kubernetes and ARM documents of a lab cluster, as the APIs return them — and have one to three of their
values (anywhere, at any depth) replaced by something random, or removed. That reaches every field a
parser reads, with the wrong type, an absurd value or nothing at all.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from akslbctl.lab.cluster import AksBuilder

# Modest and reproducible: derandomized, so a CI run checks the same examples every time.
FUZZ = settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)

ODD_STRINGS = (
    "",
    " ",
    "0",
    "-1",
    "65536",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "true",
    "TCP",
    "Http",
    "Https",
    "/",
    "../../etc/passwd",
    "\x00",
    "\ud800",
    "é",
    "a" * 300,
    "80:30",
    "svc/web",
    "127.0.0.1",
    "::1",
    "10.0.0.300",
    "/subscriptions/x/resourceGroups",
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(ODD_STRINGS),
)

json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON-like document (the root included)."""
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += paths(value, (*prefix, i))
    return out


@st.composite
def mutated(draw, doc: Any, max_changes: int = 3) -> Any:
    """``doc`` with up to ``max_changes`` values replaced by random JSON-like values, or removed."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(min_value=1, max_value=max_changes))):
        where = draw(st.sampled_from(paths(doc)))
        value = draw(json_values)
        if not where:
            doc = value
            continue
        parent = doc
        for step in where[:-1]:
            parent = parent[step]
        last = where[-1]
        if isinstance(parent, dict) and draw(st.booleans()) and draw(st.booleans()):
            del parent[last]  # a field that is not there at all
        else:
            parent[last] = value
    return doc


def lab_documents(*, local: bool = False) -> dict[str, Any]:
    """The raw documents of a small lab cluster (Kubernetes JSON and ARM REST JSON)."""
    b = AksBuilder(name="fuzz-local" if local else "fuzz")
    if local:
        b.add_service("web", ports=[{"port": 80}, {"port": 443, "appProtocol": "https"}], policy="Local")
    else:
        b.add_service("web", ports=[{"port": 80}, {"port": 53, "protocol": "UDP"}])
    c = b.build()
    try:
        return copy.deepcopy(
            {
                "service": c.service("default/web"),
                "nodes": c.nodes,
                "endpointSlices": c.endpointslices,
                "loadBalancers": c.load_balancers,
                "publicIPAddresses": c.public_ips,
                "networkInterfaces": c.nics,
            }
        )
    finally:
        c.release()


CLUSTER = lab_documents()
LOCAL = lab_documents(local=True)
