"""A Pod as the API writes it reads as the field-by-field reading reads it (sources/workload.py): the
quick reading skips building every field's error path, and hands anything irregular to the other."""

from __future__ import annotations

import pytest

from akslbctl.sources import workload
from akslbctl.sources.normalize import ShapeError


def _pod() -> dict:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": "web-7d4b9c8f6-004vs", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "nodeName": "aks-nodepool1-12345678-vmss000003",
            "containers": [
                {
                    "name": "app",
                    "image": "mcr.microsoft.com/azuredocs/aks-helloworld:v1",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
                }
            ],
        },
        "status": {"phase": "Running", "podIP": "10.244.1.9", "podIPs": [{"ip": "10.244.1.9"}]},
    }


def _variant(change) -> dict:
    doc = _pod()
    change(doc)
    return doc


def _container(d: dict) -> dict:
    return d["spec"]["containers"][0]


POD_VARIANTS = {
    "as the API writes it": lambda d: None,
    "no readiness probe": lambda d: _container(d).pop("readinessProbe"),
    "a tcpSocket probe": lambda d: _container(d).update({"readinessProbe": {"tcpSocket": {"port": 8080}}}),
    "an exec probe": lambda d: _container(d).update({"readinessProbe": {"exec": {"command": ["true"]}}}),
    "a probe that is text": lambda d: _container(d).update({"readinessProbe": "GET /"}),
    "a probe port that is a boolean": lambda d: _container(d).update({"readinessProbe": {"httpGet": {"port": True}}}),
    "no namespace": lambda d: d["metadata"].pop("namespace"),
    "no labels": lambda d: d["metadata"].pop("labels"),
    "a label that is a number": lambda d: d["metadata"]["labels"].update({"n": 1}),
    "host network": lambda d: d["spec"].update({"hostNetwork": True}),
    "host network in words": lambda d: d["spec"].update({"hostNetwork": "true"}),
    "a port without number": lambda d: _container(d)["ports"].append({"name": "x"}),
    "a port number in words": lambda d: _container(d)["ports"].append({"containerPort": "9090"}),
    "a port number that is a float": lambda d: _container(d)["ports"].append({"containerPort": 9090.0}),
    "a null container": lambda d: d["spec"]["containers"].append(None),
    "no containers": lambda d: d["spec"].pop("containers"),
    "only podIP": lambda d: d["status"].pop("podIPs"),
    "a null podIPs entry": lambda d: d["status"]["podIPs"].insert(0, None),
    "an empty podIPs entry": lambda d: d["status"].update({"podIPs": [{"ip": ""}]}),
    "a podIP that is a number": lambda d: d["status"].update({"podIPs": [], "podIP": 7}),
    "no name": lambda d: d["metadata"].pop("name"),
    "a null spec": lambda d: d.update({"spec": None}),
}


@pytest.mark.parametrize("name", POD_VARIANTS)
def test_a_plain_pod_reads_as_the_field_by_field_reading_does(name, monkeypatch):
    doc = _variant(POD_VARIANTS[name])

    def read():
        try:
            return workload.pod(doc, "Pod")
        except ShapeError as exc:
            return ("ShapeError", str(exc))

    quick = read()
    monkeypatch.setattr(workload, "_plain_pod", lambda doc, path: None)
    assert quick == read()


def test_only_plain_pods_take_the_quick_reading():
    for name in ("as the API writes it", "a tcpSocket probe", "only podIP", "a port without number"):
        assert workload._plain_pod(_variant(POD_VARIANTS[name]), "Pod") is not None, name
    for name in ("a label that is a number", "host network in words", "a port number in words", "no name"):
        assert workload._plain_pod(_variant(POD_VARIANTS[name]), "Pod") is None, name
