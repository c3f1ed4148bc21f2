"""Shared test harness: run the real CLI entry in-process against the embedded lab."""

from __future__ import annotations

import pytest
from support import cli

# What a user's shell may carry that must not leak into tests.
_ISOLATE = (
    "KUBECONFIG",
    "AKSLBCTL_ARM_ENDPOINT",
    "AKSLBCTL_ARM_TOKEN",
    "AZURE_SUBSCRIPTION_ID",
    "KUBERNETES_SERVICE_HOST",
    "KUBERNETES_SERVICE_PORT",
    "POD_NAMESPACE",
    "NO_COLOR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    for name in _ISOLATE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.kube/config, no ~/.azure
    monkeypatch.setenv("COLUMNS", "120")


@pytest.fixture
def run():
    return cli


@pytest.fixture
def lab(monkeypatch):
    """``lab("cluster-tcp")`` or ``lab(cluster)``: start a lab and point akslbctl's environment at it."""
    from akslbctl.lab.runner import Lab

    started = []

    def start(scenario, **kwargs) -> Lab:
        running = Lab(scenario, **kwargs).start()
        started.append(running)
        for key, value in running.env.items():
            monkeypatch.setenv(key, value)
        return running

    yield start
    for running in started:
        running.stop()
