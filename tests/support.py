"""Helpers the tests share: run the real CLI entry in-process and read its JSON."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

from akslbctl.cli.common import Terminal
from akslbctl.cli.fast import run as run_cli  # what the program runs: its own reader, else typer


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def cli(*argv: str, prog: str = "akslbctl") -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = run_cli(list(argv), prog, Terminal(out, err, prog=prog))
    return Result(int(code), out.getvalue(), err.getvalue())


def node_rows(doc: dict, rule: int = 0) -> dict[str, dict]:
    return {n["name"]: n for n in doc["rules"][rule]["nodes"]}


def codes(doc: dict) -> list[str]:
    return [f["code"] for f in doc["findings"]]


def in_cluster(running, folder, monkeypatch, namespace: str = "default") -> None:
    """Point akslbctl at the lab as a pod sees its API server: the service-account files (token, CA,
    namespace) in ``folder`` and the KUBERNETES_SERVICE_* environment, no kubeconfig."""
    from kubernetes.config import incluster_config

    folder.mkdir()
    (folder / "token").write_text(running.kube_token)
    (folder / "ca.crt").write_text(running.ca_file.read_text())
    (folder / "namespace").write_text(namespace)
    host, port = running.kube_url.removeprefix("https://").rsplit(":", 1)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(folder / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(folder / "ca.crt"))
    monkeypatch.setattr("akslbctl.sources.kube.SA_DIR", str(folder))
