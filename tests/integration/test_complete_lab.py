"""API-backed completion against the lab: LoadBalancer Services as svc/NAME, namespaces, contexts, the
on-disk cache, a hung API server, and kubectl's plugin completion through kubectl_complete-aks_lb."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from akslbctl.cli import complete
from akslbctl.lab.httpserver import Fault

ROOT = Path(__file__).resolve().parents[2]
HANG_SERVICES = Fault(api="kube", route="kube.services.list", hang=True)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder / "akslbctl" / "complete"


def ask(*words: str) -> tuple[list[str], int]:
    lines = complete.answer("__complete", list(words)).splitlines()
    return lines[:-1], int(lines[-1][1:])


def names(*words: str) -> list[str]:
    return [line.split("\t")[0] for line in ask(*words)[0]]


def run_entry(*args: str, importtime: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "akslbctl", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_only_loadbalancer_services_of_the_context_namespace(lab, cache):
    lab("multi-service")
    lines, directive = ask("explain", "")
    # default/cache is a ClusterIP Service; shop/store is in another namespace.
    assert lines == ["svc/api\t20.31.40.11 · TCP 443", "svc/web\t20.31.40.10 · TCP 80"]
    assert directive == 4


def test_namespace_flag_is_respected(lab, cache):
    lab("multi-service")
    assert ask("explain", "-n", "shop", "") == (["svc/store\tinternal 10.224.0.102 · TCP 8080"], 4)
    assert names("probe", "--namespace=shop", "svc/") == ["svc/store"]
    assert names("diff", "-n", "kube-system", "") == []


def test_bare_names_and_typed_prefixes(lab, cache):
    lab("multi-service")
    assert names("explain", "svc", "") == ["api", "web"]
    assert names("explain", "service/w") == ["service/web"]


def test_namespaces(lab, cache):
    lab("multi-service")
    got = names("explain", "-n", "")
    assert {"default", "shop", "kube-system"} <= set(got)
    assert names("explain", "--namespace", "sh") == ["shop"]


def test_contexts_without_an_api_call(lab, cache):
    running = lab("multi-service")
    running.clear_requests()
    expected = "lab-multi-service\tcluster lab-multi-service, namespace default (current)"
    assert ask("explain", "--context", "") == ([expected], 4)
    assert running.requests == []


def test_warm_cache_answers_without_the_api(lab, cache):
    running = lab("multi-service")
    assert names("explain", "") == ["svc/api", "svc/web"]
    files = list(cache.glob("services-*.json"))
    assert len(files) == 1
    text = files[0].read_text()
    assert running.kube_token not in text and "token" not in text.lower()
    running.clear_requests()
    running.add_fault(HANG_SERVICES)  # a call would hang: the answer must come from the cache
    assert names("explain", "") == ["svc/api", "svc/web"]
    assert running.requests == []  # no request at all: how fast is a benchmark figure


def test_warm_cache_path_does_not_import_the_kubernetes_client(lab, cache):
    lab("multi-service")
    first = run_entry("__complete", "explain", "")
    assert first.stdout.startswith("svc/api\t")
    warm = run_entry("__complete", "explain", "", importtime=True)
    assert warm.stdout == first.stdout
    modules = {line.rsplit("|", 1)[1].strip() for line in warm.stderr.splitlines() if line.startswith("import time:")}
    assert not {m for m in modules if m.split(".")[0] in ("kubernetes", "urllib3", "typer", "rich", "pydantic")}


def test_kubeconfig_change_invalidates_the_cache(lab, cache):
    running = lab("multi-service")
    assert names("explain", "") == ["svc/api", "svc/web"]
    running.add_fault(HANG_SERVICES)
    os.utime(running.kubeconfig, ns=(1, 1))  # e.g. kubectl config use-context
    assert ask("explain", "") == ([], 1)


def test_hung_api_server_returns_within_the_deadline(lab, cache):
    running = lab("multi-service")
    running.add_fault(HANG_SERVICES)
    assert ask("explain", "") == ([], 1)  # the server never answers: returning at all is the deadline's doing
    assert _abandoned_list(running)
    assert not cache.exists() or not list(cache.glob("services-*.json"))  # failures are not cached


def test_hung_api_server_in_a_real_process(lab, cache):
    running = lab("multi-service")
    running.add_fault(HANG_SERVICES)
    proc = run_entry("__complete", "explain", "")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, ":1\n", "")
    assert _abandoned_list(running)  # asked, never answered: completion gave up at its deadline


def _abandoned_list(running) -> bool:
    """The Services list was asked for and the lab never sent an answer (the fault hangs it)."""
    return any(r.route == "kube.services.list" and r.status is None for r in running.requests)


def test_unreachable_api_server_is_an_error_directive(lab, cache):
    running = lab("multi-service")
    running.add_fault(Fault(api="kube", route="kube.services.list", reset=True))
    assert ask("explain", "") == ([], 1)


# -- kubectl aks-lb ------------------------------------------------------------------------------------


@pytest.fixture
def plugin_path(tmp_path):
    """PATH with kubectl-aks_lb (this checkout, as the plugin) and the shipped kubectl_complete-aks_lb."""
    bindir = tmp_path / "plugins"
    bindir.mkdir()
    plugin = bindir / "kubectl-aks_lb"
    plugin.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -c "from akslbctl.entry import plugin_main; plugin_main()" "$@"\n'
    )
    plugin.chmod(0o755)
    shutil.copy(ROOT / "completions" / "kubectl_complete-aks_lb", bindir / "kubectl_complete-aks_lb")
    (bindir / "kubectl_complete-aks_lb").chmod(0o755)
    return f"{bindir}{os.pathsep}{os.environ['PATH']}"


kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


@kubectl
def test_kubectl_runs_the_plugin_with_its_usage(plugin_path):
    env = {**os.environ, "PATH": plugin_path}
    proc = subprocess.run(["kubectl", "aks-lb", "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: kubectl aks-lb [OPTIONS] COMMAND [ARGS]...")


@kubectl
def test_kubectl_completes_the_plugin_through_the_helper(lab, cache, plugin_path):
    lab("multi-service")
    env = {**os.environ, "PATH": plugin_path}

    def kubectl_complete(*words: str) -> list[str]:
        cmd = ["kubectl", "__complete", "aks-lb", *words]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.splitlines()

    assert kubectl_complete("ex") == ["explain\tWhich nodes the Azure LB treats as up for a Service, and why", ":4"]
    assert kubectl_complete("explain", "-n", "shop", "") == ["svc/store\tinternal 10.224.0.102 · TCP 8080", ":4"]
