"""Kubernetes and ARM documents, however mangled: the normaliser answers with the model or a ShapeError,
and whatever it accepts, the analysis, the verdicts, the diff and every renderer handle without an
exception of their own."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from fuzzing import CLUSTER, FUZZ, LOCAL, json_values, mutated
from hypothesis import given
from hypothesis import strategies as st

from akslbctl.errors import AkslbctlError
from akslbctl.model.case import RawDocuments
from akslbctl.model.probe import FAILED_OUTCOMES, OK, ProbeResult
from akslbctl.sources import normalize

KUBE = {
    "service": (normalize.service, lambda d: d["service"]),
    "node": (normalize.node, lambda d: d["nodes"][0]),
    "endpoints": (normalize.endpoints, lambda d: d["endpointSlices"][0]),
}
ARM = {
    "load_balancer": (normalize.load_balancer, lambda d: d["loadBalancers"][0]),
    "public_ip": (normalize.public_ip, lambda d: d["publicIPAddresses"][0]),
}


def _normalise(fn, doc: Any) -> None:
    try:
        fn(doc, "Doc")
    except normalize.ShapeError as exc:
        assert exc.path.startswith("Doc") and str(exc)  # names the field at fault


@pytest.mark.parametrize("kind", list(KUBE))
@FUZZ
@given(data=st.data())
def test_kubernetes_documents(kind, data):
    fn, pick = KUBE[kind]
    source = data.draw(st.sampled_from([CLUSTER, LOCAL]))
    _normalise(fn, data.draw(mutated(pick(source))))


@pytest.mark.parametrize("kind", list(KUBE) + list(ARM))
@FUZZ
@given(doc=json_values)
def test_any_json_value_as_any_document(kind, doc):
    fn, _ = {**KUBE, **ARM}[kind]
    _normalise(fn, doc)


@pytest.mark.parametrize("kind", list(ARM))
@FUZZ
@given(data=st.data())
def test_arm_documents(kind, data):
    fn, pick = ARM[kind]
    source = data.draw(st.sampled_from([CLUSTER, LOCAL]))
    _normalise(fn, data.draw(mutated(pick(source))))


@FUZZ
@given(data=st.data())
def test_network_interfaces(data):
    nic = {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/nic0",
        "name": "nic0",
        "properties": {
            "ipConfigurations": [
                {
                    "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/nic0/"
                    "ipConfigurations/ipconfig1",
                    "name": "ipconfig1",
                    "properties": {"privateIPAddress": "10.224.0.4", "primary": True},
                }
            ]
        },
    }
    _normalise(normalize.network_interface, data.draw(mutated(nic)))


def _raw(docs: dict[str, Any]) -> RawDocuments:
    return RawDocuments(
        service=docs.get("service"),
        nodes=tuple(docs["nodes"]),
        endpoint_slices=tuple(docs["endpointSlices"]),
        load_balancers=tuple(docs["loadBalancers"]),
        public_ips=tuple(docs["publicIPAddresses"]),
        network_interfaces=tuple(docs["networkInterfaces"]),
    )


@FUZZ
@given(data=st.data())
def test_the_whole_pipeline_on_mangled_evidence(data):
    """Normalise a mangled cluster; whatever passes goes through analysis, verdicts (with random probe
    outcomes), the diff and every renderer."""
    from akslbctl.analysis.diff import diff
    from akslbctl.analysis.engine import analyse, probe_plan
    from akslbctl.analysis.hints import hint_targets
    from akslbctl.analysis.verdict import diagnose
    from akslbctl.collect import case_from_raw
    from akslbctl.render.diff_table import render_diff
    from akslbctl.render.document import diagnosis_doc, diff_doc, to_json, to_yaml
    from akslbctl.render.table import render_diagnosis

    source = data.draw(st.sampled_from([CLUSTER, LOCAL]))
    docs = data.draw(mutated(source, max_changes=2))
    if not isinstance(docs, dict) or not all(
        isinstance(docs.get(k), list)
        for k in ("nodes", "endpointSlices", "loadBalancers", "publicIPAddresses", "networkInterfaces")
    ):
        return
    try:
        case = case_from_raw(_raw(docs), subscription="s", resource_group="MC_rg_aks_westeurope")
    except AkslbctlError:
        return
    version = data.draw(st.sampled_from([None, "latest", "v1.24.10", "1.27"]))
    analysis = analyse(case, provider_version=version)
    targets = list(dict.fromkeys(probe_plan(analysis) + hint_targets(analysis)))
    outcomes = st.sampled_from([OK, *FAILED_OUTCOMES])
    results = {
        t: ProbeResult(
            t,
            data.draw(outcomes),
            status=data.draw(st.none() | st.integers(100, 599)),
            local_endpoints=data.draw(st.none() | st.integers(-1, 5)),
        )
        for t in targets
    }
    diagnosis = diagnose(analysis, data.draw(st.sampled_from([None, results])))
    from rich.console import Console

    out = io.StringIO()
    render_diagnosis(diagnosis, Console(file=out, width=80), wide=data.draw(st.booleans()))
    to_json(diagnosis_doc(diagnosis))
    to_yaml(diagnosis_doc(diagnosis))
    result = diff(analysis)
    render_diff(result, Console(file=out, width=80))
    to_json(diff_doc(result))
    assert diagnosis.service is case.service


class _Answer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status, self._body = status, body

    def read(self) -> bytes:
        return self._body


class _Api:
    """The two calls KubeSource makes on the kubernetes ApiClient, answering what the test says."""

    def __init__(self, answers: list[tuple[int, bytes]]) -> None:
        self.answers = answers

    def param_serialize(self, **kwargs: Any):
        return ("GET", "https://127.0.0.1:6443" + kwargs["resource_path"], {}, None, None)

    def call_api(self, *args: Any, **kwargs: Any) -> _Answer:
        status, body = self.answers.pop(0) if self.answers else (200, b'{"items": []}')
        return _Answer(status, body)


bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b'{"items": [], "metadata": {"continue": "x"}}', b'{"items": [{}], "metadata": null}']),
)


@FUZZ
@given(answers=st.lists(st.tuples(st.sampled_from([200, 200, 200, 401, 403, 404, 410, 429, 500]), bodies), max_size=4))
def test_kubernetes_answers(answers):
    """Whatever the API server answers, the source returns documents or raises an akslbctl error."""
    from akslbctl.sources.kube import KubeOptions, KubeSource

    source = object.__new__(KubeSource)
    source.options, source.namespace, source.server, source.context = KubeOptions(), "default", "https://x", "c"
    source._api = _Api(list(answers))
    for call in (lambda: source.service("default", "web"), source.nodes, source.version):
        try:
            doc = call()
        except AkslbctlError as exc:
            assert str(exc) and "\n" not in str(exc)
            continue
        assert isinstance(doc, (dict, list))
