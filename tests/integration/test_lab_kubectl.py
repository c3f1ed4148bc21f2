"""The lab speaks to kubectl: discovery, server-side tables, describe, events, OpenAPI — and ``lab up``
keeps the shell's proxy bypass and ends with 143 on SIGTERM.

The kubectl tests run the real kubectl against the lab and skip only where kubectl is not installed
(``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (.ci/run installs it)")


def kubectl(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    assert KUBECTL is not None
    return subprocess.run(
        [KUBECTL, *args], env=dict(os.environ), capture_output=True, text=True, timeout=timeout, check=False
    )


def api(running, path: str, accept: str = "application/json") -> httpx.Response:
    with httpx.Client(verify=ssl.create_default_context(cafile=str(running.ca_file)), trust_env=False) as client:
        return client.get(
            running.kube_url + path, headers={"Authorization": f"Bearer {running.kube_token}", "Accept": accept}
        )


# -- discovery, without kubectl -----------------------------------------------------------------------


def test_discovery_names_every_served_resource(lab):
    running = lab("cluster-tcp")
    core = api(running, "/api/v1").json()
    assert (core["kind"], core["groupVersion"]) == ("APIResourceList", "v1")
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["services"]["shortNames"] == ["svc"] and by_name["services"]["namespaced"] is True
    assert by_name["nodes"]["namespaced"] is False and by_name["nodes"]["kind"] == "Node"
    assert {"events", "pods", "namespaces", "endpoints"} <= set(by_name)
    assert all(set(r["verbs"]) == {"get", "list"} for r in core["resources"])  # read-only, and it says so
    slices = api(running, "/apis/discovery.k8s.io/v1").json()
    assert [r["kind"] for r in slices["resources"]] == ["EndpointSlice"]
    groups = {g["name"] for g in api(running, "/apis").json()["groups"]}
    assert {"discovery.k8s.io", "networking.k8s.io"} <= groups
    assert api(running, "/apis/apps/v1").status_code == 404  # not served, not pretended


def test_tables_for_kubectl_get(lab):
    running = lab("cluster-tcp")
    table_accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    doc = api(running, "/api/v1/namespaces/default/services", table_accept).json()
    assert doc["kind"] == "Table"
    assert [c["name"] for c in doc["columnDefinitions"]][:6] == [
        "Name",
        "Type",
        "Cluster-IP",
        "External-IP",
        "Port(s)",
        "Age",
    ]
    (row,) = doc["rows"]
    assert row["cells"][:5] == ["web", "LoadBalancer", "10.0.0.3", "20.31.40.10", "80:30396/TCP"]
    assert row["object"]["kind"] == "PartialObjectMetadata" and row["object"]["metadata"]["name"] == "web"
    plain = api(running, "/api/v1/namespaces/default/services").json()
    assert plain["kind"] == "ServiceList"  # akslbctl's own requests get the objects


def test_endpoints_mirror_the_slices(lab):
    running = lab("cluster-tcp")
    ep = api(running, "/api/v1/namespaces/default/endpoints/web").json()
    addresses = sorted(a["ip"] for s in ep["subsets"] for a in s.get("addresses", []))
    assert addresses == ["10.244.0.10", "10.244.1.11"]
    assert ep["subsets"][0]["ports"][0]["port"] == 8080


# -- the real kubectl -------------------------------------------------------------------------------


@needs_kubectl
def test_kubectl_get_svc_nodes_endpointslices(lab):
    running = lab("cluster-tcp")
    result = kubectl("get", "svc,nodes,endpointslices")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "service/web" in out and "LoadBalancer" in out and "20.31.40.10" in out and "80:30396/TCP" in out
    for node in running.cluster.nodes:
        assert f"node/{node['metadata']['name']}" in out
    assert "endpointslice.discovery.k8s.io/web-" in out and "10.244.0.10" in out
    assert "couldn't get resource list" not in result.stderr and "error" not in result.stderr.lower()
    wide = kubectl("get", "nodes", "-o", "wide")
    assert wide.returncode == 0 and "INTERNAL-IP" in wide.stdout and running.address(0) in wide.stdout
    as_json = kubectl("get", "svc", "web", "-o", "json")
    assert as_json.returncode == 0 and '"nodePort": 30396' in as_json.stdout
    assert running.writes == []


@needs_kubectl
def test_kubectl_all_namespaces_and_short_names(lab):
    lab("multi-service")
    result = kubectl("get", "svc", "-A")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[:3] == ["NAMESPACE", "NAME", "TYPE"]
    assert "shop" in result.stdout and "store" in result.stdout and "cache" in result.stdout
    assert kubectl("get", "no").returncode == 0
    assert kubectl("get", "deployments").returncode != 0  # not served: kubectl says so, the lab does not pretend


@needs_kubectl
def test_kubectl_describe_svc_and_get_events(lab):
    running = lab("pending-subnet-full")
    described = kubectl("describe", "svc", "web")
    assert described.returncode == 0, described.stderr
    out = described.stdout
    assert "Type:                     LoadBalancer" in out
    assert "Endpoints:                10.244.0.10:8080,10.244.1.11:8080" in out
    assert "SyncLoadBalancerFailed" in out and "SubnetIsFull" in out
    events = kubectl("get", "events")
    assert events.returncode == 0, events.stderr
    header = events.stdout.splitlines()[0].split()
    assert header[:4] == ["LAST", "SEEN", "TYPE", "REASON"]
    assert "SyncLoadBalancerFailed" in events.stdout and "service/web" in events.stdout
    assert running.writes == []


def _kubectl_minor() -> int:
    import json

    out = kubectl("version", "--client", "-o", "json").stdout
    try:
        return int("".join(ch for ch in json.loads(out)["clientVersion"]["minor"] if ch.isdigit()))
    except (ValueError, KeyError):
        return 0


@needs_kubectl
def test_kubectl_explain_reads_the_openapi_documents(lab):
    if _kubectl_minor() < 27:
        pytest.skip("kubectl before 1.27 explains from OpenAPI v2 (protobuf), which the lab does not serve")
    lab("cluster-tcp")
    result = kubectl("explain", "svc")
    assert result.returncode == 0, result.stderr
    assert "KIND:       Service" in result.stdout and "VERSION:    v1" in result.stdout


@needs_kubectl
def test_kubectl_cannot_write_to_the_lab(lab):
    running = lab("cluster-tcp")
    result = kubectl("delete", "svc", "web", "--wait=false")
    assert result.returncode != 0
    assert [r.method for r in running.writes] == ["DELETE"]


# -- lab up ---------------------------------------------------------------------------------------------


def _lab_up(env: dict[str, str]) -> tuple[subprocess.Popen, dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "akslbctl", "lab", "up", "cluster-tcp"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    exports: dict[str, str] = {}
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("export "):
            key, _, value = line[len("export ") :].rstrip("\n").partition("=")
            exports[key] = value.strip("'")
        if line.startswith("# main Service"):
            return proc, exports
    proc.kill()
    raise AssertionError(f"lab up did not start: {proc.stderr.read() if proc.stderr else ''}")


def test_lab_up_keeps_no_proxy_and_exits_143_on_sigterm(tmp_path):
    env = {**os.environ, "NO_PROXY": ".corp.example,10.0.0.0/8", "no_proxy": "intranet.example", "HOME": str(tmp_path)}
    env.pop("COLUMNS", None)
    proc, exports = _lab_up(env)
    try:
        for name in ("NO_PROXY", "no_proxy"):
            entries = exports[name].split(",")
            assert entries[:3] == [".corp.example", "10.0.0.0/8", "intranet.example"], exports[name]
            assert "127.0.0.0/8" in entries and "localhost" in entries
        kubeconfig = Path(exports["KUBECONFIG"])
        assert kubeconfig.exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 143
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not kubeconfig.exists()  # the lab stopped and cleaned up
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")


@needs_kubectl
def test_kubectl_get_pods_and_all(lab):
    lab("local-http")
    pods = kubectl("get", "pods", "-o", "wide")
    assert pods.returncode == 0, pods.stderr
    rows = [line.split() for line in pods.stdout.splitlines()[1:]]
    assert rows and all(r[1] == "1/1" and r[2] == "Running" for r in rows), pods.stdout
    everything = kubectl("get", "all")
    assert everything.returncode == 0 and "service/web" in everything.stdout and "pod/web-" in everything.stdout
