"""kubeconfig handling as kubectl does it: KUBECONFIG lists, contexts and their namespaces, exec
credential plugins (kubelogin), in-cluster service accounts — against the lab's Kubernetes API."""

from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest
import yaml
from support import cli, in_cluster, node_rows

from akslbctl.errors import ExitCode, UsageError
from akslbctl.sources.kube import KubeOptions, KubeSource, kubeconfig_paths


def _config(lab) -> dict:
    return yaml.safe_load(lab.kubeconfig.read_text())


def test_exec_credential_plugin_supplies_the_token(lab, tmp_path, monkeypatch):
    running = lab("cluster-tcp")
    plugin = tmp_path / "fake-kubelogin.py"
    plugin.write_text(
        textwrap.dedent(
            f"""
            import json
            print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                              "status": {{"token": {running.kube_token!r}}}}}))
            """
        )
    )
    doc = _config(running)
    doc["users"][0]["user"] = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": sys.executable,
            "args": [str(plugin)],
            "interactiveMode": "Never",
        }
    }
    path = tmp_path / "exec.kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    result = cli("explain", "svc/web", "--kubeconfig", str(path), "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json["rules"][0]["up"] == 3
    assert running.kube_token not in result.output


def test_failing_exec_plugin_is_one_line_exit_3(lab, tmp_path):
    running = lab("cluster-tcp")
    doc = _config(running)
    doc["users"][0]["user"] = {
        "exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "/nonexistent/kubelogin",
                 "interactiveMode": "Never"}
    }
    path = tmp_path / "bad-exec.kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    result = cli("explain", "svc/web", "--kubeconfig", str(path))
    assert result.exit_code == ExitCode.NO_EVIDENCE
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_kubeconfig_list_and_context_namespace(lab, tmp_path, monkeypatch):
    running = lab("multi-service")
    doc = _config(running)
    # Split the config in two files as KUBECONFIG=a:b does, and add a context whose namespace is shop.
    first = {"apiVersion": "v1", "kind": "Config", "clusters": doc["clusters"], "users": doc["users"],
             "contexts": [], "current-context": doc["current-context"]}
    ctx = dict(doc["contexts"][0])
    shop = {"name": "shop", "context": {**ctx["context"], "namespace": "shop"}}
    second = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": [ctx, shop]}
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(yaml.safe_dump(first))
    b.write_text(yaml.safe_dump(second))
    monkeypatch.setenv("KUBECONFIG", f"{a}{os.pathsep}{b}")
    assert kubeconfig_paths(None) == [str(a), str(b)]
    # default context: its namespace is default → web
    assert cli("explain", "svc/web", "-o", "json").json["service"]["namespace"] == "default"
    # --context shop: namespace shop → store; -n wins over the context's namespace
    result = cli("explain", "svc/store", "--context", "shop", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json["service"]["namespace"] == "shop"
    assert cli("explain", "svc/web", "--context", "shop", "-n", "default", "-o", "json").exit_code == 0
    missing = cli("explain", "svc/web", "--context", "shop")
    assert missing.exit_code == 2 and 'service "web" not found in namespace "shop"' in missing.stderr


def test_in_cluster_service_account(lab, tmp_path, monkeypatch):
    running = lab("cluster-tcp")
    in_cluster(running, tmp_path / "sa", monkeypatch)
    source = KubeSource(KubeOptions())
    assert source.context == "in-cluster" and source.namespace == "default"
    assert source.service("default", "web")["metadata"]["name"] == "web"
    result = cli("explain", "svc/web", "-o", "json")
    assert result.exit_code == 0, result.stderr


def test_no_kubeconfig_anywhere():
    result = cli("explain", "svc/web")
    assert result.exit_code == ExitCode.NO_EVIDENCE
    assert "no kubeconfig found" in result.stderr and "az aks get-credentials" in result.stderr


def test_missing_explicit_kubeconfig_is_bad_input(tmp_path):
    with pytest.raises(UsageError):
        KubeSource(KubeOptions(kubeconfig=str(tmp_path / "nope")))
    result = cli("explain", "svc/web", "--kubeconfig", str(tmp_path / "nope"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_garbage_kubeconfig_is_one_line(tmp_path):
    path = tmp_path / "garbage"
    path.write_bytes(b"\x00\xff{{{ not yaml: [")
    result = cli("explain", "svc/web", "--kubeconfig", str(path))
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_lists_are_paged_like_kubectl(lab):
    running = lab("large:1200")
    source = KubeSource(KubeOptions())
    assert len(source.nodes()) == 1200
    pages = [r for r in running.requests if r.path.startswith("/api/v1/nodes")]
    assert len(pages) == 3  # limit=500


def test_first_node_is_read_alone_and_no_page_twice(lab):
    # explain starts ARM from the first Node's providerID: the list's first page asks for one Node, the
    # rest come in pages of 500 from its continue token — every Node read once, in the server's order.
    running = lab("large:1200")
    source = KubeSource(KubeOptions())
    firsts = []
    nodes = source.nodes(firsts.append)
    assert [n["metadata"]["name"] for n in nodes] == [n["metadata"]["name"] for n in KubeSource(KubeOptions()).nodes()]
    assert len(nodes) == 1200 and firsts == [nodes[0]]
    queries = [r.query for r in running.requests if r.path == "/api/v1/nodes"][:3]
    assert "limit=1" in queries[0].split("&") and "continue" not in queries[0]
    assert all("limit=500" in q.split("&") and "continue=" in q for q in queries[1:])


def _lb_lists(running) -> int:
    return sum(1 for r in running.requests if r.api == "arm" and r.path.lower().endswith("/loadbalancers"))


def test_arm_is_read_once_when_the_first_node_names_it(lab):
    running = lab("cluster-tcp")
    result = cli("explain", "svc/web", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert _lb_lists(running) == 1


def test_a_first_node_without_provider_id_leaves_the_scope_to_the_whole_list(lab):
    # A virtual node sorts first and names no subscription: ARM is read once, from the scope the first
    # Node that has a providerID names — the same diagnosis as without it.
    from akslbctl.lab import scenarios

    cluster = scenarios._cluster_tcp_builder("virtual-node").add_virtual_node("aaa-virtual-node").build()
    running = lab(cluster)
    result = cli("explain", "svc/web", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert _lb_lists(running) == 1
    names = [r.query for r in running.requests if r.path == "/api/v1/nodes"]
    assert len(names) == 2  # limit=1 (the virtual node), then the rest
    rows = node_rows(json.loads(result.stdout))
    assert sorted(n for n, r in rows.items() if r["verdict"] == "up" and r["reason"] == "probe-ok") == sorted(
        n for n in rows if n != "aaa-virtual-node"
    )
    assert len(rows) >= 3
