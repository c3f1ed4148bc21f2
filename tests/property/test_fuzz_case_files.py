"""Case files and dump folders, whatever they hold: a Case, or a CaseFileError (exit 2) that names the
file — never another exception."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

from fuzzing import CLUSTER, FUZZ, json_values, mutated
from hypothesis import given
from hypothesis import strategies as st

from akslbctl.errors import CaseFileError
from akslbctl.sources import casefile

CASE = {"apiVersion": "akslbctl/v1alpha1", "kind": "Case", **{k: v for k, v in CLUSTER.items()}, "probes": []}
PROBE = {"node": "n", "target": "tcp://127.0.0.4:30396", "outcome": "ok", "status": None, "latencyMs": 1.0}


def _load(path: Path) -> None:
    try:
        case = casefile.load(str(path))
    except CaseFileError as exc:
        line = str(exc)
        assert "\n" not in line and line, "one line"
        return
    assert case.service is not None


@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "case.json"
        path.write_bytes(data)
        _load(path)


@FUZZ
@given(prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b" \n"]), body=st.binary(max_size=64))
def test_bytes_after_a_byte_order_mark(prefix, body):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "case.json"
        path.write_bytes(prefix + b'{"kind": "Case", ' + body)
        _load(path)


@FUZZ
@given(doc=json_values)
def test_random_json(doc):
    with contextlib.suppress(CaseFileError):
        casefile.case_from_document(doc, "case.json", casefile.Scope())


@FUZZ
@given(data=st.data())
def test_mangled_case_documents(data):
    doc = dict(CASE)
    doc["probes"] = data.draw(st.sampled_from([[], [PROBE], [PROBE, PROBE]]))
    doc = data.draw(mutated(doc))
    scope = casefile.Scope(name=data.draw(st.sampled_from([None, "web", "other"])))
    try:
        case = casefile.case_from_document(doc, "case.json", scope)
    except CaseFileError:
        return
    from akslbctl.pipeline import ProbeOptions, explain

    explain(case, ProbeOptions(enabled=False))  # offline analysis of whatever was accepted


@FUZZ
@given(data=st.data())
def test_dump_folders(data):
    names = st.sampled_from(
        ["service.json", "nodes.json", "lb.json", "publicips.json", "endpointslices.json", "x.json"]
    )
    files = data.draw(st.dictionaries(names, st.binary(max_size=256) | json_values.map(json.dumps).map(str.encode)))
    if data.draw(st.booleans()):
        files["service.json"] = json.dumps(data.draw(mutated(CLUSTER["service"]))).encode()
        files["nodes.json"] = json.dumps({"kind": "List", "items": CLUSTER["nodes"]}).encode()
        files["lb.json"] = json.dumps(data.draw(mutated(CLUSTER["loadBalancers"]))).encode()
    with tempfile.TemporaryDirectory() as d:
        for name, content in files.items():
            (Path(d) / name).write_bytes(content)
        _load(Path(d))
