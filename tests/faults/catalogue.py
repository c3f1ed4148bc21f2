"""The fault catalogue: every fault and bad input akslbctl must survive, as data, and how to run one.

Each :class:`Fault` names what is broken, how it is injected (a lab fault on the Kubernetes API or ARM,
a node behaviour on a lab listener, a change to the cluster's documents, the environment, an argument,
a file's content, a signal), the command line, and what surviving means: the documented exit code
(contract §4), the verdict and reason a broken node gets, a substring of the one line on stderr — and
no hang. :func:`run` runs an entry — in-process through the real CLI entry
(``support.cli``), or as a subprocess where time, memory or a signal needs a process — and
:func:`judge` lists what went wrong (nothing, for a fault survived).

``tests/faults/test_catalogue.py`` runs every entry; ``benchmarks/fault_figures.py`` runs every entry
as a subprocess and prints the table quoted in docs/robustness.md.

Time is not judged (a test asserts no wall-clock bound: the suite runs on a loaded 2-core machine).
Each entry's ``bound`` is nominal — what it takes at most on an idle machine — and is reported by
``benchmarks/fault_figures.py``, which names the entries that went over it. What is judged is a hang:
a run still going after :func:`hang_limit` (three times its bound and ten seconds more, far past
anything load does) is killed, and judged a hang.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from akslbctl.lab import behaviours as B
from akslbctl.lab.cluster import AksBuilder, LabCluster
from akslbctl.lab.runner import Lab

NODE1 = "aks-nodepool1-12345678-vmss000001"  # the node a node-behaviour fault breaks
MAX_RSS_MB = 400  # what any one run may take, 10 MB bodies and 1 GB files included


def hang_limit(bound: float) -> float:
    """Seconds after which a run is a hang (a subprocess is killed then): generous, so that a loaded
    machine never reaches it while a run that hangs — or waits out a 30 s timeout — still does."""
    return bound * 3 + 10.0


# What a user's shell may carry that must not reach a run (as tests/conftest.py isolates).
_ISOLATE = (
    "KUBECONFIG",
    "AKSLBCTL_ARM_ENDPOINT",
    "AKSLBCTL_ARM_TOKEN",
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_CLIENT_SECRET",
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
    "XDG_CACHE_HOME",
)


# ---------------------------------------------------------------------------------------------------
# The shape of an entry


@dataclass
class Context:
    """One run's world: its folder, environment, lab (if any) and the secrets that must not leak."""

    tmp: Path
    env: dict[str, str]
    lab: Lab | None = None
    secrets: list[str] = field(default_factory=list)
    inputs: set[Path] = field(default_factory=set)  # files that were there before the run
    stdout_path: Path | None = None  # a subprocess's stdout, while it runs
    answered_first: bool = False  # an interrupt entry's run answered (or ended) before SIGINT was sent
    cleanups: list[Callable[[], None]] = field(default_factory=list)  # run when the entry's run is over
    listener: Any = None  # a foreign origin's listener (Listener), when the entry has one
    counts: dict[Any, int] = field(default_factory=dict)  # what a cleanup counted before the lab stopped

    def path(self, name: str) -> Path:
        return self.tmp / name


@dataclass(frozen=True)
class Outcome:
    exit: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_kb: int | None = None  # subprocess runs only
    killed: bool = False  # still running at its hang limit: killed (subprocess runs only)


@dataclass(frozen=True)
class Fault:
    id: str
    what: str  # the fault, in one line
    via: str  # kube-api | arm | rule-health | node | cluster | env | argument | case-file | output | signal
    argv: tuple[str, ...]  # "{tmp}" stands for the run's folder
    exit: int
    says: str | tuple[str, ...] | None = None  # a substring of the one stderr line (exit 2 and 3); a tuple: any one
    verdict: str | None = None  # "verdict/reason" of NODE1 on the first rule (explain -o json)
    cluster: Callable[[], LabCluster] | None = None  # the lab to start, if any
    prepare: Callable[[Context], None] | None = None  # files, environment
    bound: float = 12.0  # nominal seconds of wall time on an idle machine (interpreter start included):
    # reported by benchmarks/fault_figures.py, never judged; a run past hang_limit(bound) is a hang
    process: bool = False  # the test runs it as a subprocess (time, memory or a signal matter)
    interrupt: Callable[[Context], bool] | None = None  # SIGINT once this says the moment has come
    sig: int = signal.SIGINT  # the signal ``interrupt`` sends (SIGTERM, SIGHUP: they end a run as Ctrl-C does)
    settle: float = 0.2  # seconds between that moment and the signal (to be well inside the blocking call)
    # The exit of a run that gave its answer before SIGINT could be sent: a command with a time limit of
    # its own (completion's 2 s lookup) may reach it first on a loaded machine. None: it must not.
    answered_exit: int | None = None
    stdout_closed: bool = False  # stdout is a pipe nobody reads (| head -0)
    streams: str | None = None  # "full": stdout is /dev/full; "no-fd1" / "no-fd2": started with fd 1 / 2 closed
    check: Callable[[Context, Outcome], str | None] | None = None  # one more condition: a problem or None
    warns: str | None = None  # exit 0/1: stderr is exactly one "warning: …" line holding this

    @property
    def expected(self) -> str:
        parts = [f"exit {self.exit}"]
        if self.verdict:
            parts.append(self.verdict)
        return ", ".join(parts)


# ---------------------------------------------------------------------------------------------------
# Clusters


def _cluster(name: str) -> AksBuilder:
    """Cluster policy, Tcp probe on nodePort 30396, pods on nodes 0 and 1: every node up."""
    b = AksBuilder(name=name)
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    return b


def _kube_fault(name: str, route: str, **fields: Any) -> Callable[[], LabCluster]:
    return lambda: _cluster(name).fault("kube", route, **fields).build()


def _arm_fault(name: str, route: str = "*", **fields: Any) -> Callable[[], LabCluster]:
    return lambda: _cluster(name).fault("arm", route, **fields).build()


HC = 32610  # the health check node port of the Local-policy Service


def _local(name: str, node1: B.Behaviour | None = None) -> Callable[[], LabCluster]:
    """Local policy, Http probe /healthz on HC, a pod on every node; node 1 answers with ``node1``."""

    def build() -> LabCluster:
        b = AksBuilder(name=name)
        b.add_service(
            "web",
            ports=[{"port": 80, "nodePort": 31081}],
            policy="Local",
            health_check_node_port=HC,
            endpoints_on=[0, 1, 2],
        )
        if node1 is not None:
            b.node_behaviour(1, HC, node1)
        return b.build()

    return build


def _https(name: str, node1: B.Behaviour) -> Callable[[], LabCluster]:
    """appProtocol https: an Https probe on / of nodePort 30443; node 1 answers with ``node1``."""

    def build() -> LabCluster:
        b = AksBuilder(name=name)
        ok = B.Http(default=B.Reply(200, b"ok", (("Content-Type", "text/plain"),)), tls=True)
        b.add_service("web", ports=[{"port": 443, "nodePort": 30443, "appProtocol": "https"}], app=ok)
        b.node_behaviour(1, 30443, node1)
        return b.build()

    return build


def _mutated(name: str, change: Callable[[LabCluster], None], builder: Callable[[str], AksBuilder] = _cluster):
    def build() -> LabCluster:
        c = builder(name).build()
        change(c)
        return c

    return build


def _lb(c: LabCluster) -> dict:
    return c.load_balancers[0]


def _without_internal_ip(c: LabCluster) -> None:
    addrs = c.nodes[2]["status"]["addresses"]
    c.nodes[2]["status"]["addresses"] = [a for a in addrs if a["type"] != "InternalIP"]


def _dangling_probe(c: LabCluster) -> None:
    rule = _lb(c)["properties"]["loadBalancingRules"][0]
    rule["properties"]["probe"] = {"id": rule["properties"]["probe"]["id"] + "-gone"}


def _foreign_members(c: LabCluster) -> None:
    """Pool members whose ipConfigurations belong to another cluster's scale set."""
    for pool in _lb(c)["properties"]["backendAddressPools"]:
        for m in pool["properties"].get("backendIPConfigurations", []):
            m["id"] = m["id"].replace("aks-nodepool1-12345678-vmss", "aks-other-87654321-vmss")


def _no_provider_id(c: LabCluster) -> None:
    for n in c.nodes:
        n["spec"].pop("providerID", None)


def _endpoints_string(c: LabCluster) -> None:
    c.endpointslices[0]["endpoints"] = "10.244.0.5"


def _service_type(kind: str) -> Callable[[LabCluster], None]:
    def change(c: LabCluster) -> None:
        c.services[0]["spec"]["type"] = kind

    return change


def _lb_class(c: LabCluster) -> None:
    c.services[0]["spec"]["loadBalancerClass"] = "example.com/other"


def _annotation(key: str, value: str) -> Callable[[LabCluster], None]:
    def change(c: LabCluster) -> None:
        c.services[0]["metadata"].setdefault("annotations", {})[key] = value

    return change


def _every_node_closed(name: str) -> Callable[[], LabCluster]:
    def build() -> LabCluster:
        b = _cluster(name)
        for i in range(3):
            b.node_behaviour(i, 30396, B.Closed())
        return b.build()

    return build


def _duplicate_node(c: LabCluster) -> None:
    c.nodes.append(copy.deepcopy(c.nodes[0]))


# ---------------------------------------------------------------------------------------------------
# Files and environments


def _kubeconfig(ctx: Context, server: str, *, ca: str | None = None, user: Mapping[str, Any] | None = None) -> Path:
    import yaml

    cluster: dict[str, Any] = {"server": server}
    if ca is not None:
        cluster["certificate-authority"] = ca
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": dict(user or {"token": "kubeconfig-token-3f9a7c1e"})}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u", "namespace": "default"}}],
        "current-context": "ctx",
    }
    path = ctx.path("kubeconfig")
    path.write_text(yaml.safe_dump(doc))
    ctx.env["KUBECONFIG"] = str(path)
    return path


def _closed_port_kubeconfig(ctx: Context) -> None:
    _kubeconfig(ctx, "https://127.0.0.1:9")


def _wrong_ca_kubeconfig(ctx: Context) -> None:
    """The lab's API server, but the kubeconfig trusts another CA."""
    from akslbctl.lab.httpserver import _generate_tls

    other_ca, _, _ = _generate_tls()
    ca = ctx.path("other-ca.pem")
    ca.write_bytes(other_ca)
    assert ctx.lab is not None
    _kubeconfig(ctx, ctx.lab.kube_url, ca=str(ca), user={"token": ctx.lab.kube_token})


def _plain_http_to_tls(ctx: Context) -> None:
    """The kubeconfig says http:// to an API server that speaks TLS."""
    assert ctx.lab is not None
    _kubeconfig(ctx, ctx.lab.kube_url.replace("https://", "http://"), user={"token": ctx.lab.kube_token})


def _wrong_kube_token(ctx: Context) -> None:
    assert ctx.lab is not None and ctx.lab.ca_file is not None
    _kubeconfig(ctx, ctx.lab.kube_url, ca=str(ctx.lab.ca_file), user={"token": "not-the-token-7d2e9a"})
    ctx.secrets.append("not-the-token-7d2e9a")


def _failing_exec_plugin(ctx: Context) -> None:
    assert ctx.lab is not None and ctx.lab.ca_file is not None
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "false", "args": []}}
    _kubeconfig(ctx, ctx.lab.kube_url, ca=str(ctx.lab.ca_file), user=user)


def _hanging_exec_plugin(ctx: Context) -> None:
    """An exec credential plugin that never returns (kubelogin waiting for a device-code login)."""
    assert ctx.lab is not None and ctx.lab.ca_file is not None
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "sleep", "args": ["20"]}}
    _kubeconfig(ctx, ctx.lab.kube_url, ca=str(ctx.lab.ca_file), user=user)


def _garbage_kubeconfig(ctx: Context) -> None:
    path = ctx.path("kubeconfig")
    path.write_bytes(b"\x00\xff: [unclosed\n\tkey: {")
    ctx.env["KUBECONFIG"] = str(path)


def _no_kubeconfig(ctx: Context) -> None:
    ctx.env.pop("KUBECONFIG", None)


def _self_linked_lb_page(ctx: Context) -> None:
    """ARM answers the load balancer list with a page whose nextLink is the list itself."""
    from akslbctl.lab.httpserver import Fault as LabFault

    assert ctx.lab is not None
    c = ctx.lab.cluster
    url = (
        f"{ctx.lab.arm_url}/subscriptions/{c.subscription}/resourceGroups/{c.node_resource_group}/providers/"
        "Microsoft.Network/loadBalancers?api-version=2026-03-01"
    )
    body = json.dumps({"value": c.load_balancers, "nextLink": url}).encode()
    ctx.lab.add_fault(LabFault(api="arm", route="arm.loadBalancers.list", status=200, body=body))


def _env(**values: str) -> Callable[[Context], None]:
    def prepare(ctx: Context) -> None:
        ctx.env.update(values)
        ctx.secrets.extend(v for k, v in values.items() if "TOKEN" in k or "SECRET" in k)

    return prepare


def _case(change: Callable[[dict], None] | None = None, *, name: str = "case.json") -> Callable[[Context], None]:
    """A §7 case file of the Cluster-policy cluster (no probe results), changed by ``change``."""

    def prepare(ctx: Context) -> None:
        c = _cluster("case").build()
        try:
            doc = {
                "apiVersion": "akslbctl/v1alpha1",
                "kind": "Case",
                "service": c.service("default/web"),
                "nodes": c.nodes,
                "endpointSlices": c.endpointslices,
                "loadBalancers": c.load_balancers,
                "publicIPAddresses": c.public_ips,
                "probes": [],
            }
            doc = copy.deepcopy(doc)
        finally:
            c.release()
        if change is not None:
            change(doc)
        ctx.path(name).write_text(json.dumps(doc))

    return prepare


def _file(content: bytes | Callable[[], bytes], name: str = "case.json") -> Callable[[Context], None]:
    def prepare(ctx: Context) -> None:
        ctx.path(name).write_bytes(content() if callable(content) else content)

    return prepare


def _sparse_gigabyte(ctx: Context) -> None:
    with open(ctx.path("case.json"), "wb") as f:
        f.truncate(1024**3)


def _dump_folder(files: Mapping[str, bytes]) -> Callable[[Context], None]:
    def prepare(ctx: Context) -> None:
        folder = ctx.path("dumps")
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_bytes(data)

    return prepare


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """Set a dotted path (list indexes as numbers) in a case document."""

    def change(doc: dict) -> None:
        *parents, last = path.split(".")
        cur: Any = doc
        for p in parents:
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        if isinstance(cur, list):
            cur[int(last)] = value
        else:
            cur[last] = value

    return change


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


# ---------------------------------------------------------------------------------------------------
# Moments to press Ctrl-C


def _after_request(route: str) -> Callable[[Context], bool]:
    def ready(ctx: Context) -> bool:
        return ctx.lab is not None and any(r.route == route for r in ctx.lab.requests)

    return ready


def _after_connection(node: int, port: int) -> Callable[[Context], bool]:
    def ready(ctx: Context) -> bool:
        return ctx.lab is not None and ctx.lab.connections(node, port) > 0

    return ready


def _after_output(ctx: Context) -> bool:
    return ctx.stdout_path is not None and ctx.stdout_path.exists() and ctx.stdout_path.stat().st_size > 0


# ---------------------------------------------------------------------------------------------------
# Extra conditions


def _no_file(name: str) -> Callable[[Context, Outcome], str | None]:
    def check(ctx: Context, out: Outcome) -> str | None:
        left = [p.name for p in ctx.tmp.iterdir() if p.name.startswith((name, f".{name}"))]
        return f"files left behind: {left}" if left else None

    return check


def _took_at_least(seconds: float) -> Callable[[Context, Outcome], str | None]:
    def check(ctx: Context, out: Outcome) -> str | None:
        return None if out.seconds >= seconds else f"took {out.seconds:.2f} s: Retry-After ({seconds} s) not honoured"

    return check


def _stdout_whole_documents(ctx: Context, out: Outcome) -> str | None:
    """Interrupted output: nothing, or whole JSON documents (one per line)."""
    for line in out.stdout.splitlines():
        try:
            json.loads(line)
        except ValueError:
            return f"half-written output: {line[:80]!r}"
    return None


def _finding(code: str) -> Callable[[Context, Outcome], str | None]:
    def check(ctx: Context, out: Outcome) -> str | None:
        try:
            codes = [f["code"] for f in json.loads(out.stdout)["findings"]]
        except (ValueError, KeyError, TypeError):
            return "stdout is not a ServiceDiagnosis"
        return None if code in codes else f"no {code} finding (got {codes})"

    return check


def _json_note(text: str) -> Callable[[Context, Outcome], str | None]:
    def check(ctx: Context, out: Outcome) -> str | None:
        if text not in out.stdout:
            return f"the output does not say {text!r}"
        return None

    return check


# ---------------------------------------------------------------------------------------------------
# Round two: hostile servers (issue 13)


class Listener:
    """Another origin on the loopback (``127.0.0.2`` by default, or another port of ``127.0.0.1``):
    it records every connection and the bytes sent on it, and answers nothing. A token must never
    reach it, nor any request at all."""

    def __init__(self, host: str = "127.0.0.2") -> None:
        import socket

        self.host = host
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, scheme: str = "http") -> str:
        return f"{scheme}://{self.host}:{self.port}"

    def _serve(self) -> None:

        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1.0)
                try:
                    self.received.append(conn.recv(65536) or b"<connected>")
                except OSError:
                    self.received.append(b"<connected>")

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(2)


def _listener(ctx: Context, host: str = "127.0.0.2") -> Listener:
    listener = Listener(host)
    ctx.listener = listener
    ctx.cleanups.append(listener.close)
    return listener


def _nothing_reached_the_listener(ctx: Context, out: Outcome) -> str | None:
    got = ctx.listener.received if ctx.listener is not None else []
    if got:
        leaked = any(s and s.encode() in b"".join(got) for s in ctx.secrets)
        return f"{len(got)} request(s) reached the foreign origin{' with a token' if leaked else ''}: {got[0][:80]!r}"
    return None


def _lb_list_url(ctx: Context, base: str, provider: str = "Microsoft.Network/loadBalancers") -> str:
    assert ctx.lab is not None
    c = ctx.lab.cluster
    return (
        f"{base}/subscriptions/{c.subscription}/resourceGroups/{c.node_resource_group}/providers/"
        f"{provider}?api-version=2026-03-01&page=2"
    )


def _next_link(where: Callable[[Context], str]) -> Callable[[Context], None]:
    """ARM answers the load balancer list with one page whose nextLink is ``where(ctx)``."""

    def prepare(ctx: Context) -> None:
        from akslbctl.lab.httpserver import Fault as LabFault

        assert ctx.lab is not None
        body = json.dumps({"value": ctx.lab.cluster.load_balancers, "nextLink": where(ctx)}).encode()
        ctx.lab.add_fault(LabFault(api="arm", route="arm.loadBalancers.list", status=200, body=body))

    return prepare


def _foreign(scheme: str = "http", host: str = "127.0.0.2") -> Callable[[Context], str]:
    return lambda ctx: _lb_list_url(ctx, _listener(ctx, host).url(scheme))


def _arm_answer(route: str, status: int, header: str, where: Callable[[Context], str], times: int | None = None):
    """ARM answers ``route`` with ``status`` and ``header: where(ctx)`` (an LRO or redirect header)."""

    def prepare(ctx: Context) -> None:
        from akslbctl.lab.httpserver import Fault as LabFault

        assert ctx.lab is not None
        headers = ((header, where(ctx)), ("Retry-After", "0"), ("Content-Type", "application/json"))
        ctx.lab.add_fault(LabFault(api="arm", route=route, status=status, body=b"", headers=headers, times=times))

    return prepare


def _kube_answer(route: str, status: int, where: Callable[[Context], str]):
    def prepare(ctx: Context) -> None:
        from akslbctl.lab.httpserver import Fault as LabFault

        assert ctx.lab is not None
        headers = (("Location", where(ctx)), ("Content-Type", "text/html"))
        ctx.lab.add_fault(LabFault(api="kube", route=route, status=status, body=b"moved", headers=headers))

    return prepare


def _foreign_url(path: str = "/x") -> Callable[[Context], str]:
    return lambda ctx: _listener(ctx).url() + path


def _vmss_restart(ctx: Context) -> str:
    """An ARM action that changes something: restarting the cluster's scale set, on the lab's ARM."""
    assert ctx.lab is not None
    c = ctx.lab.cluster
    return (
        f"{ctx.lab.arm_url}/subscriptions/{c.subscription}/resourceGroups/{c.node_resource_group}/providers/"
        "Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-12345678-vmss/restart?api-version=2024-07-01"
    )


def _nothing_but_reads(ctx: Context, out: Outcome) -> str | None:
    """Only GETs and the rule-health POST reached the lab, and no write attempt."""
    assert ctx.lab is not None
    others = [(r.method, r.path) for r in ctx.lab.requests if r.method != "GET" and r.route != "arm.rule-health"]
    if ctx.lab.writes or others:
        return f"a write reached the lab: {others or [(w.method, w.path) for w in ctx.lab.writes]}"
    restarts = [r.path for r in ctx.lab.requests if "restart" in r.path.lower()]
    return f"the redirect was followed: {restarts}" if restarts else None


def _then(*prepares: Callable[[Context], None]) -> Callable[[Context], None]:
    def prepare(ctx: Context) -> None:
        for p in prepares:
            p(ctx)

    return prepare


def _checks(*checks: Callable[[Context, Outcome], str | None]) -> Callable[[Context, Outcome], str | None]:
    def check(ctx: Context, out: Outcome) -> str | None:
        for c in checks:
            problem = c(ctx, out)
            if problem:
                return problem
        return None

    return check


def _client_cert_kubeconfig(ctx: Context) -> None:
    """The lab's API server, with a user that has client-key-data and client-certificate-data (as
    'az aks get-credentials --admin' writes): the kubernetes client writes them to temporary files.
    TMPDIR is a folder of the run, so that what is left in it after the run can be seen."""
    import base64

    from akslbctl.lab.httpserver import _generate_tls

    assert ctx.lab is not None and ctx.lab.ca_file is not None
    _, cert, key = _generate_tls()
    user = {
        "token": ctx.lab.kube_token,
        "client-certificate-data": base64.b64encode(cert).decode(),
        "client-key-data": base64.b64encode(key).decode(),
    }
    _kubeconfig(ctx, ctx.lab.kube_url, ca=str(ctx.lab.ca_file), user=user)
    tmpdir = ctx.path("tmpdir")
    tmpdir.mkdir()
    ctx.env["TMPDIR"] = str(tmpdir)
    ctx.secrets.append(key.decode().splitlines()[1])  # a line of the private key: never in any output


def _no_key_left(ctx: Context, out: Outcome) -> str | None:
    left = [str(p.relative_to(ctx.tmp)) for p in ctx.path("tmpdir").rglob("*")]
    return f"left in TMPDIR after the run: {left}" if left else None


# What must never reach a terminal from outside: C0 (but the line breaks of the output itself), DEL,
# C1, bidi controls and line separators (issue 13 §4).
_CONTROL = __import__("re").compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # a clipboard write
CLEAR = "\x1b[2J\x1b[H"  # clear the screen, cursor home
BIDI = "\u202egnp.exe"
FORGED = "\naks-forged-vmss000009   up   probe-ok"  # a newline in a name: a table row of its own


def _no_control(ctx: Context, out: Outcome) -> str | None:
    """No control character, bidi override or forged line reached stdout or stderr raw."""
    for name, text in (("stdout", out.stdout), ("stderr", out.stderr)):
        found = _CONTROL.search(text)
        if found:
            at = found.start()
            return f"{name} holds {found.group()!r} raw: {text[max(0, at - 30) : at + 10]!r}"
        if any(line.lstrip().startswith("aks-forged") for line in text.splitlines()):
            return f"{name} holds a forged row"
    return None


def _completion_safe(ctx: Context, out: Outcome) -> str | None:
    """The completion protocol's tabs aside, nothing raw; the real Service is still offered."""
    plain = Outcome(out.exit, out.stdout.replace("\t", " "), out.stderr, out.seconds)
    if "svc/web " not in plain.stdout and "svc/web\n" not in plain.stdout:
        return f"svc/web not offered: {out.stdout!r}"
    return _no_control(ctx, plain)


def _rename_node(value: str) -> Callable[[LabCluster], None]:
    def change(c: LabCluster) -> None:
        c.nodes[2]["metadata"]["name"] = value

    return change


def _label(value: str) -> Callable[[LabCluster], None]:
    def change(c: LabCluster) -> None:
        c.services[0]["metadata"].setdefault("labels", {})["app"] = value

    return change


def _forbidden_message(message: str):
    body = json.dumps({"kind": "Status", "status": "Failure", "message": message, "code": 403}).encode()
    return _kube_fault("kmsg", "kube.nodes.list", status=403, body=body)


def _arm_error_message(message: str):
    body = json.dumps({"error": {"code": "Conflict" + CLEAR, "message": message}}).encode()
    return _arm_fault("amsg", "arm.loadBalancers.list", status=409, body=body)


def _service_list_names(*names: str) -> Callable[[], LabCluster]:
    def build() -> LabCluster:
        c = _cluster("cnames").build()
        for n in names:
            extra = copy.deepcopy(c.services[0])
            extra["metadata"]["name"] = n
            extra["metadata"]["uid"] = extra["metadata"]["uid"][:-4] + f"{len(c.services):04d}"
            c.services.append(extra)
        return c

    return build


JWT = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJhcGk6Ly9BenVyZUFEVG9rZW5FeGNoYW5nZSIsInRpZCI6IngifQ."
    "Qm9ndXNTaWduYXR1cmVfb2ZfdGhlX2xhYl9YYjNfWnE4X3ZWNm1KcFl0Uk5zVTBfa0VjMl9oRDRfd0wx"
)
TENANT = "4b8c3d2e-1f0a-4e9b-8c7d-6a5b4c3d2e1f"


def _no_fragment(ctx: Context, out: Outcome) -> str | None:
    """No 15-character piece of any secret in the output or the files written (masking survives a cut)."""
    texts = [out.stdout, out.stderr] + [p.read_bytes().decode("utf-8", "replace") for p in written_files(ctx)]
    for secret in ctx.secrets:
        for i in range(0, max(len(secret) - 14, 0)):
            piece = secret[i : i + 15]
            if any(piece in t for t in texts):
                return f"a fragment of a secret reached the output: {piece[:4]}…"
    return None


def _echoing_403(route: str, message: Callable[[Context], str]) -> Callable[[Context], None]:
    """The Kubernetes API answers ``route`` with a 403 whose message echoes (part of) a credential."""

    def prepare(ctx: Context) -> None:
        from akslbctl.lab.httpserver import Fault as LabFault

        assert ctx.lab is not None
        body = json.dumps({"kind": "Status", "message": message(ctx), "code": 403}).encode()
        ctx.lab.add_fault(LabFault(api="kube", route=route, status=403, body=body))

    return prepare


def _echoing_arm_error(message: Callable[[Context], str]) -> Callable[[Context], None]:
    def prepare(ctx: Context) -> None:
        from akslbctl.lab.httpserver import Fault as LabFault

        assert ctx.lab is not None
        body = json.dumps({"error": {"code": "InvalidAuthenticationTokenTenant", "message": message(ctx)}}).encode()
        ctx.lab.add_fault(LabFault(api="arm", route="arm.loadBalancers.list", status=400, body=body))

    return prepare


def _jwt_kubeconfig(ctx: Context) -> None:
    """The kubeconfig's token is a JWT (as kubelogin's is)."""
    assert ctx.lab is not None and ctx.lab.ca_file is not None
    _kubeconfig(ctx, ctx.lab.kube_url, ca=str(ctx.lab.ca_file), user={"token": JWT})
    ctx.secrets.append(JWT)


def _tenant_in_free_text(c: LabCluster) -> None:
    c.services[0]["metadata"].setdefault("annotations", {})["example.com/last-error"] = (
        f"AADSTS700016: Application with identifier 'x' was not found in the directory '{TENANT}'. Tenant ID: {TENANT}"
    )


def _file_lacks(name: str, text: str) -> Callable[[Context, Outcome], str | None]:
    def check(ctx: Context, out: Outcome) -> str | None:
        path = ctx.path(name)
        if not path.exists():
            return f"{name} was not written"
        return f"{name} still holds {text}" if text in path.read_text() else None

    return check


def _null_device(ctx: Context) -> None:
    """``{tmp}/null``: a null character device of the run's own (mknod, as root), so that a writer that
    replaces what it is given harms nothing of the machine's; without the privilege, a link to
    /dev/null (a writer that replaces the link leaves /dev/null alone)."""
    import stat as st

    try:
        os.mknod(ctx.path("null"), st.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        ctx.path("null").symlink_to("/dev/null")


def _mkfifo(name: str) -> Callable[[Context], None]:
    def prepare(ctx: Context) -> None:
        os.mkfifo(ctx.path(name))

    return prepare


def _planted_link(name: str) -> Callable[[Context], None]:
    """``name`` is a symbolic link to a file the run must not touch (``victim``)."""

    def prepare(ctx: Context) -> None:
        ctx.path("victim").write_text("precious\n")
        ctx.path(name).symlink_to(ctx.path("victim"))

    return prepare


def _still(name: str, kind: str) -> Callable[[Context, Outcome], str | None]:
    import stat as st

    tests = {"fifo": st.S_ISFIFO, "chardev": st.S_ISCHR, "file": st.S_ISREG}

    def check(ctx: Context, out: Outcome) -> str | None:
        path = Path(name) if name.startswith("/") else ctx.path(name)
        mode = os.stat(path).st_mode
        return None if tests[kind](mode) else f"{path} is no longer a {kind}"

    return check


def _victim_untouched(ctx: Context, out: Outcome) -> str | None:
    return None if ctx.path("victim").read_text() == "precious\n" else "the planted link was followed"


def _whole_document(ctx: Context, out: Outcome) -> str | None:
    try:
        json.loads(out.stdout)
    except ValueError:
        return f"stdout is not one JSON document: {out.stdout[:80]!r}"
    return None


# ---------------------------------------------------------------------------------------------------
# Round two: what a probe is judged on, and what may be probed (issue 13 §8)


def _probe_field(key: str, value: Any) -> Callable[[LabCluster], None]:
    """Every probe of the LB gets ``properties.<key> = value`` (as ARM would hand it over)."""

    def change(c: LabCluster) -> None:
        for probe in _lb(c)["properties"]["probes"]:
            probe["properties"][key] = value

    return change


def _node_ip(value: str, node: int = 1) -> Callable[[LabCluster], None]:
    """Node ``node`` reports ``value`` as its InternalIP (a NIC pool member of a scale set is probed at
    its Node's InternalIP)."""

    def change(c: LabCluster) -> None:
        for a in c.nodes[node]["status"]["addresses"]:
            if a["type"] == "InternalIP":
                a["address"] = value

    return change


def _every_round(outcome: str | None, node: str = NODE1) -> Callable[[Context, Outcome], str | None]:
    """Each ProbeRound line of ``probe -o json`` shows ``outcome`` for ``node`` (no flip between rounds)."""

    def check(ctx: Context, out: Outcome) -> str | None:
        seen = []
        for line in out.stdout.splitlines():
            try:
                doc = json.loads(line)
                seen += [n["outcome"] for p in doc["probes"] for n in p["nodes"] if n["name"] == node]
            except (ValueError, KeyError, TypeError):
                return f"not a ProbeRound line: {line[:80]!r}"
        if len(seen) < 2 or set(seen) != {outcome}:
            return f"{node}: outcomes {seen}, expected {outcome} every round"
        return None

    return check


def _detail_says(text: str, node: str = NODE1) -> Callable[[Context, Outcome], str | None]:
    def check(ctx: Context, out: Outcome) -> str | None:
        try:
            row = next(n for n in json.loads(out.stdout)["rules"][0]["nodes"] if n["name"] == node)
        except (ValueError, KeyError, IndexError, StopIteration, TypeError):
            return "stdout is not a ServiceDiagnosis"
        detail = row.get("detail") or ""
        return None if text in detail else f"{node}'s detail does not say {text!r}: {detail!r}"

    return check


def _count_connections(node: int, port: int) -> Callable[[Context], None]:
    """Count, once the run is over and before the lab stops, the connections node ``node`` took on ``port``."""

    def prepare(ctx: Context) -> None:
        def count() -> None:
            assert ctx.lab is not None
            ctx.counts[(node, port)] = ctx.lab.connections(node, port)

        ctx.cleanups.append(count)

    return prepare


def _nothing_reached(node: int, port: int) -> Callable[[Context, Outcome], str | None]:
    """Nothing connected to node ``node`` on ``port`` (with ``_count_connections`` as the entry's prepare)."""

    def check(ctx: Context, out: Outcome) -> str | None:
        n = ctx.counts.get((node, port))
        if n is None:
            return "connections were not counted"
        return f"{n} connection(s) reached node {node}:{port}" if n else None

    return check


def _tcp_node(name: str, behaviour: B.Behaviour) -> Callable[[], LabCluster]:
    def build() -> LabCluster:
        return _cluster(name).node_behaviour(1, 30396, behaviour).build()

    return build


def _local_builder(name: str) -> AksBuilder:
    """Local policy: an Http probe /healthz on HC, a pod on every node."""
    b = AksBuilder(name=name)
    ports = [{"port": 80, "nodePort": 31081}]
    b.add_service("web", ports=ports, policy="Local", health_check_node_port=HC, endpoints_on=[0, 1, 2])
    return b


_MTLS = B.Http(default=B.Reply(200, b"ok", (("Content-Type", "text/plain"),)), tls=True, client_cert=True)


# ---------------------------------------------------------------------------------------------------
# Round two: real inputs (issue 13 §9, §10)


def _dumps(change: Callable[[dict], None] | None = None, *, omit: tuple[str, ...] = (), builder=None):
    """A dump folder ``{tmp}/dumps`` of the Cluster-policy cluster as kubectl/az print it (one file per
    piece, Lists and az arrays), changed by ``change`` (on the pieces by file stem:
    ``service.metadata.uid``), without the pieces in ``omit``."""

    def prepare(ctx: Context) -> None:
        c = (builder or _cluster)("dumps").build()
        try:
            pieces = {
                "service": c.service("default/web"),
                "nodes": {"apiVersion": "v1", "kind": "List", "items": c.nodes},
                "endpointslices": {"apiVersion": "v1", "kind": "List", "items": c.endpointslices},
                "loadbalancers": c.load_balancers,
                "publicips": c.public_ips,
            }
            pieces = copy.deepcopy(pieces)
        finally:
            c.release()
        if change is not None:
            change(pieces)
        folder = ctx.path("dumps")
        folder.mkdir()
        for name, doc in pieces.items():
            if name not in omit:
                (folder / f"{name}.json").write_text(json.dumps(doc))

    return prepare


def _drop(path: str) -> Callable[[dict], None]:
    """Remove a dotted path (list indexes as numbers) from a document."""

    def change(doc: dict) -> None:
        *parents, last = path.split(".")
        cur: Any = doc
        for p in parents:
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        if isinstance(cur, list):
            del cur[int(last)]
        else:
            cur.pop(last, None)

    return change


def _user_lb_pinned_by_ip(c: LabCluster) -> None:
    """The Service's IP sits on a user's own load balancer: a frontend named by the user on the same
    public IP, with the user's rule and probe — nothing named with the Service's prefix anywhere."""
    lb = _lb(c)
    props = lb["properties"]
    lb["name"] = "user-lb"
    lb["id"] = lb["id"].rsplit("/", 1)[0] + "/user-lb"
    for kind, new in (("frontendIPConfigurations", "user-frontend"), ("loadBalancingRules", "user-http"),
                      ("probes", "user-probe")):
        for item in props.get(kind, []):
            item["name"] = new
    pips = [f["properties"].get("publicIPAddress") for f in props["frontendIPConfigurations"]]
    text = json.dumps(lb)
    prefix = props["loadBalancingRules"][0]["id"].rsplit("/", 1)[-1].split("-")[0]
    lb.clear()
    lb.update(json.loads(text.replace(prefix, "user")))
    for f, pip in zip(lb["properties"]["frontendIPConfigurations"], pips, strict=True):
        f["properties"]["publicIPAddress"] = pip  # still on the Service's public IP


def _no_provider_id_renamed(c: LabCluster) -> None:
    """No Node has a providerID, and one Node's name is not its instance's computer name (a renamed node)."""
    _no_provider_id(c)
    c.nodes[2]["metadata"]["name"] = "worker-3"


def _says_not(text: str) -> Callable[[Context, Outcome], str | None]:
    def check(ctx: Context, out: Outcome) -> str | None:
        return f"the output says {text!r}" if text in out.stdout + out.stderr else None

    return check


def _number_of_probes(value: int = 2) -> Callable[[LabCluster], None]:
    """Every probe carries only ``numberOfProbes`` (as providers before v1.24.18 / v1.25.12 / v1.26.8 wrote it)."""

    def change(c: LabCluster) -> None:
        for probe in _lb(c)["properties"]["probes"]:
            probe["properties"].pop("probeThreshold", None)
            probe["properties"]["numberOfProbes"] = value

    return change


def _versioned(version: str) -> Callable[[str], AksBuilder]:
    def builder(name: str) -> AksBuilder:
        b = AksBuilder(name=name, version=version)
        b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
        return b

    return builder


def _drift(*fields: str) -> Callable[[Context, Outcome], str | None]:
    """The LoadBalancerDiff's differences are on exactly these fields."""

    def check(ctx: Context, out: Outcome) -> str | None:
        try:
            got = sorted({d["field"] for d in json.loads(out.stdout)["differences"]})
        except (ValueError, KeyError, TypeError):
            return "stdout is not a LoadBalancerDiff"
        return None if got == sorted(fields) else f"differences on {got}, expected {sorted(fields)}"

    return check


_BAD_NSG = {
    "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/n",
    "name": "n",
    "properties": {
        "securityRules": [{"name": "r", "properties": {"priority": "high", "access": "Deny", "direction": "Inbound"}}]
    },
}
_OTHER_SLICE = {  # another Service's slice, malformed (endpoints is a string)
    "apiVersion": "discovery.k8s.io/v1",
    "kind": "EndpointSlice",
    "metadata": {"name": "api-x7k2p", "namespace": "default", "labels": {"kubernetes.io/service-name": "api"}},
    "addressType": "IPv4",
    "endpoints": "10.244.0.5",
}
OTHER_PREFIX = "a0f1e2d3c4b5a69788796a5b4c3d2e1f"  # another Service's prefix on the same LB


def _other_rule(**fields: Any) -> Callable[[LabCluster], None]:
    """Another Service's rule (named with its own prefix) on the LB, with ``fields`` in its properties."""

    def change(c: LabCluster) -> None:
        lb = _lb(c)
        rules = lb["properties"]["loadBalancingRules"]
        other = copy.deepcopy(rules[0])
        other["name"] = f"{OTHER_PREFIX}-TCP-8443"
        other["id"] = other["id"].rsplit("/", 1)[0] + "/" + other["name"]
        other["properties"].pop("probe", None)
        other["properties"].update(fields)
        rules.append(other)

    return change


def _other_probe(**fields: Any) -> Callable[[LabCluster], None]:
    def change(c: LabCluster) -> None:
        probes = _lb(c)["properties"]["probes"]
        other = copy.deepcopy(probes[0])
        other["name"] = f"{OTHER_PREFIX}-TCP-8443"
        other["id"] = other["id"].rsplit("/", 1)[0] + "/" + other["name"]
        other["properties"].pop("loadBalancingRules", None)
        other["properties"].update(fields)
        probes.append(other)

    return change


def _other_lb(change_lb: Callable[[dict], None]) -> Callable[[LabCluster], None]:
    """A second LB in the resource group (another cluster's internal LB), changed by ``change_lb``."""

    def change(c: LabCluster) -> None:
        other = copy.deepcopy(_lb(c))
        text = json.dumps(other)
        prefix = other["properties"]["loadBalancingRules"][0]["name"].split("-")[0]
        other = json.loads(text.replace(prefix, OTHER_PREFIX).replace("/kubernetes", "/kubernetes-internal"))
        other["name"] = "kubernetes-internal"
        for f in other["properties"]["frontendIPConfigurations"]:
            f["properties"].pop("publicIPAddress", None)
            f["properties"]["privateIPAddress"] = "10.224.0.99"
        change_lb(other)
        c.load_balancers.append(other)

    return change


def _extra_pool(properties: dict) -> Callable[[LabCluster], None]:
    """A pool no rule of the Service uses (``aksOutboundBackendPool``) with ``properties``."""

    def change(c: LabCluster) -> None:
        pools = _lb(c)["properties"]["backendAddressPools"]
        pid = pools[0]["id"].rsplit("/", 1)[0] + "/aksOutboundBackendPool"
        pools.append({"id": pid, "name": "aksOutboundBackendPool", "properties": dict(properties)})

    return change


def _node_field(node: int, path: str, value: Any) -> Callable[[LabCluster], None]:
    def change(c: LabCluster) -> None:
        _set(path, value)(c.nodes[node])

    return change


def _slices_answer(extra: Callable[[LabCluster], list[dict]]) -> Callable[[Context], None]:
    """The Kubernetes API ignores the EndpointSlice list's label selector: it answers with the
    Service's slices and ``extra(cluster)`` (another Service's slices of the namespace)."""

    def prepare(ctx: Context) -> None:
        from akslbctl.lab.httpserver import Fault as LabFault

        assert ctx.lab is not None
        c = ctx.lab.cluster
        items = list(c.endpointslices) + extra(c)
        body = json.dumps({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSliceList", "metadata": {},
                           "items": items}).encode()
        ctx.lab.add_fault(LabFault(api="kube", route="kube.endpointslices.list", status=200, body=body))

    return prepare


def _other_slice(endpoints: Any, *, labelled: bool = True) -> Callable[[LabCluster], list[dict]]:
    """Another Service's slice ("api") in the namespace: ``endpoints`` as given (a malformed value, or
    ready endpoints on every node)."""

    def extra(c: LabCluster) -> list[dict]:
        s = copy.deepcopy(c.endpointslices[0]) if c.endpointslices else {"metadata": {"namespace": "default"}}
        s["metadata"]["name"] = "api-x7k2p"
        labels = s["metadata"].setdefault("labels", {})
        if labelled:
            labels["kubernetes.io/service-name"] = "api"
        else:
            labels.pop("kubernetes.io/service-name", None)
        s["endpoints"] = endpoints(c) if callable(endpoints) else endpoints
        return [s]

    return extra


def _ready_everywhere(c: LabCluster) -> list[dict]:
    return [
        {"addresses": [f"10.244.{i}.9"], "conditions": {"ready": True}, "nodeName": n["metadata"]["name"]}
        for i, n in enumerate(c.nodes)
    ]


def _no_endpoints(name: str) -> AksBuilder:
    b = AksBuilder(name=name)
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[])
    return b


def _notes_say(text: str) -> Callable[[Context, Outcome], str | None]:
    def check(ctx: Context, out: Outcome) -> str | None:
        try:
            notes = " ".join(json.loads(out.stdout).get("notes", []))
        except (ValueError, AttributeError):
            return "stdout is not one JSON document"
        return None if text in notes else f"no note says {text!r}"

    return check


def _case_nodes_without_provider_id(doc: dict) -> None:
    """A case whose Nodes carry no providerID and are named unlike their instances: nothing joins."""
    for i, n in enumerate(doc["nodes"]):
        n["spec"].pop("providerID", None)
        n["metadata"]["name"] = f"worker-{i}"


def _finding_severity(code: str, severity: str) -> Callable[[Context, Outcome], str | None]:
    def check(ctx: Context, out: Outcome) -> str | None:
        try:
            got = [f["severity"] for f in json.loads(out.stdout)["findings"] if f["code"] == code]
        except (ValueError, KeyError, TypeError):
            return "stdout is not a ServiceDiagnosis"
        return None if got and set(got) == {severity} else f"{code} severities {got}, expected {severity}"

    return check


def _no_finding(code: str) -> Callable[[Context, Outcome], str | None]:
    def check(ctx: Context, out: Outcome) -> str | None:
        try:
            doc = json.loads(out.stdout)
        except ValueError:
            return "stdout is not JSON"
        docs = doc.get("items", [doc]) if isinstance(doc, dict) else []
        codes = [f["code"] for d in docs for f in d.get("findings", [])]
        return f"a {code} finding was raised" if code in codes else None

    return check


def _expected_none(ctx: Context, out: Outcome) -> str | None:
    """No node of the first rule has an ``expected`` (nothing to predict it from)."""
    try:
        rows = json.loads(out.stdout)["rules"][0]["nodes"]
    except (ValueError, KeyError, IndexError, TypeError):
        return "stdout is not a ServiceDiagnosis"
    said = [(r["name"], r["expected"]) for r in rows if r.get("expected") is not None]
    return f"expected given without endpoints: {said}" if said else None


# ---------------------------------------------------------------------------------------------------
# The catalogue

EXPLAIN = ("explain", "svc/web", "-o", "json")
# For hangs: a second per request; the deadline far behind, so that on a loaded machine too it is the
# request's timeout that ends the run (the one line names the server that did not answer).
QUICK = ("--request-timeout", "1", "--deadline", "10")
NI = ("--no-azure-health",)
SECRET = "s3cr3t-client-secret-value-8c1f"
SCOPE = ("--subscription", "8f3c2a1e-5b7d-4c9e-a0f1-2d3e4b5c6a7f", "-g", "MC_rg_aks_westeurope")  # the lab's

CATALOGUE: tuple[Fault, ...] = (
    # -- Kubernetes API ---------------------------------------------------------------------------
    Fault(
        "kube-500-service",
        "Kubernetes API answers 500 to the Service GET",
        "kube-api",
        EXPLAIN,
        3,
        "answered GET /api/v1/namespaces/default/services/web with 500",
        cluster=_kube_fault("k500s", "kube.services.get", status=500, body=b'{"message":"etcdserver: leader changed"}'),
    ),
    Fault(
        "kube-500-nodes",
        "Kubernetes API answers 500 to the Node list",
        "kube-api",
        EXPLAIN,
        3,
        "answered GET /api/v1/nodes with 500",
        cluster=_kube_fault("k500n", "kube.nodes.list", status=500),
    ),
    Fault(
        "kube-503-endpointslices",
        "Kubernetes API answers 503 to the EndpointSlice list",
        "kube-api",
        EXPLAIN,
        3,
        "with 503",
        cluster=_kube_fault("k503e", "kube.endpointslices.list", status=503),
    ),
    Fault(
        "kube-500-version",
        "Kubernetes API answers 500 to /version (optional: rules default)",
        "kube-api",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_kube_fault("k500v", "kube.version", status=500),
    ),
    Fault(
        "kube-hang-service",
        "Kubernetes API accepts the Service GET and never answers",
        "kube-api",
        (*EXPLAIN, *QUICK),
        3,
        "did not answer in time",
        cluster=_kube_fault("khs", "kube.services.get", hang=True),
        bound=8,
        process=True,
    ),
    Fault(
        "kube-hang-nodes",
        "Kubernetes API never answers the Node list (in a worker thread)",
        "kube-api",
        (*EXPLAIN, *QUICK),
        3,
        "Kubernetes API server",
        cluster=_kube_fault("khn", "kube.nodes.list", hang=True),
        bound=8,
        process=True,
    ),
    Fault(
        "explain-all-past-deadline",
        "explain -A while the Service list hangs",
        "kube-api",
        ("explain", "-A", "-o", "json", "--deadline", "3"),
        3,
        # The hung list's read timeout is what is left of the deadline: whichever of the two a loaded
        # machine sees end first, the run ends at the deadline with one line (exit 3).
        ("within the 3 s deadline", "did not answer in time"),
        cluster=_kube_fault("kall", "kube.services.list", hang=True),
        bound=6,
        process=True,
    ),
    Fault(
        "kube-reset-service",
        "Kubernetes API resets the connection of the Service GET",
        "kube-api",
        EXPLAIN,
        3,
        "dropped the connection",
        cluster=_kube_fault("krs", "kube.services.get", reset=True),
    ),
    Fault(
        "kube-reset-endpointslices",
        "Kubernetes API resets the EndpointSlice list",
        "kube-api",
        EXPLAIN,
        3,
        "dropped the connection",
        cluster=_kube_fault("kre", "kube.endpointslices.list", reset=True),
    ),
    Fault(
        "kube-drip",
        "Kubernetes API drips its answer, one byte every 0.3 s",
        "kube-api",
        ("explain", "svc/web", "--request-timeout", "1", "--deadline", "3"),
        3,
        "within the 3 s deadline",
        cluster=_kube_fault("kdr", "kube.services.get", drip=0.3),
        bound=7,
        process=True,
    ),
    Fault(
        "kube-garbage",
        "Kubernetes API answers bytes that are not HTTP",
        "kube-api",
        EXPLAIN,
        3,
        "not HTTP",
        cluster=_kube_fault("kgb", "kube.services.get", garbage=True),
    ),
    Fault(
        "kube-not-json",
        "Kubernetes API answers 200 with an HTML page",
        "kube-api",
        EXPLAIN,
        3,
        "not JSON",
        cluster=_kube_fault(
            "knj",
            "kube.services.get",
            status=200,
            body=b"<html>proxy login</html>",
            headers=(("Content-Type", "text/html"),),
        ),
    ),
    Fault(
        "kube-json-list",
        "Kubernetes API answers a JSON list instead of an object",
        "kube-api",
        EXPLAIN,
        3,
        "a JSON list, not an object",
        cluster=_kube_fault("kjl", "kube.services.get", status=200, body=b"[1, 2]"),
    ),
    Fault(
        "kube-items-object",
        "Kubernetes API answers a Node list whose items is an object",
        "kube-api",
        EXPLAIN,
        3,
        "without an items list",
        cluster=_kube_fault("kio", "kube.nodes.list", status=200, body=b'{"kind":"NodeList","items":{}}'),
    ),
    Fault(
        "kube-truncated",
        "Kubernetes API answers a truncated JSON document",
        "kube-api",
        EXPLAIN,
        3,
        "not JSON",
        cluster=_kube_fault("ktr", "kube.services.get", status=200, body=b'{"kind":"Service","meta'),
    ),
    Fault(
        "kube-401",
        "Kubernetes API rejects the kubeconfig's token",
        "kube-api",
        EXPLAIN,
        3,
        "rejected the credentials (401",
        cluster=_cluster("k401").build,
        prepare=_wrong_kube_token,
    ),
    Fault(
        "kube-403-nodes",
        "RBAC forbids listing Nodes",
        "kube-api",
        EXPLAIN,
        3,
        "403 Forbidden",
        cluster=lambda: _cluster("k403").kube_forbidden("nodes").build(),
    ),
    Fault(
        "kube-404-service",
        "The Service does not exist",
        "kube-api",
        ("explain", "svc/nosuch"),
        2,
        'service "nosuch" not found',
        cluster=_cluster("k404").build,
    ),
    Fault(
        "kube-closed-port",
        "kubeconfig points at a closed port",
        "env",
        EXPLAIN,
        3,
        "refused the connection",
        prepare=_closed_port_kubeconfig,
    ),
    Fault(
        "kube-wrong-ca",
        "The API server's certificate is signed by a CA the kubeconfig does not trust",
        "env",
        EXPLAIN,
        3,
        "failed the TLS handshake: its certificate is signed by a CA that is not trusted (unknown CA)",
        cluster=_cluster("kca").build,
        prepare=_wrong_ca_kubeconfig,
    ),
    Fault(
        "kube-http-to-tls",
        "kubeconfig says http:// to a server that speaks TLS",
        "env",
        EXPLAIN,
        3,
        "Kubernetes API server",
        cluster=_cluster("khttp").build,
        prepare=_plain_http_to_tls,
    ),
    Fault(
        "kube-exec-plugin-fails",
        "The kubeconfig's exec credential plugin exits 1",
        "env",
        EXPLAIN,
        3,
        "credentials",
        cluster=_cluster("kexe").build,
        prepare=_failing_exec_plugin,
    ),
    Fault(
        "kube-exec-plugin-hangs",
        "The kubeconfig's exec credential plugin never returns (a login prompt nobody answers)",
        "env",
        (*EXPLAIN, "--deadline", "3"),
        3,
        "within the 3 s deadline",
        cluster=_cluster("kexh").build,
        prepare=_hanging_exec_plugin,
        bound=6,
        process=True,
    ),
    Fault(
        "kubeconfig-garbage", "KUBECONFIG is binary noise", "env", EXPLAIN, 2, "kubeconfig", prepare=_garbage_kubeconfig
    ),
    Fault(
        "kubeconfig-none",
        "No kubeconfig anywhere and not in a cluster",
        "env",
        EXPLAIN,
        3,
        "no kubeconfig found",
        prepare=_no_kubeconfig,
    ),
    Fault(
        "kubeconfig-unknown-context",
        "--context names a context the kubeconfig lacks",
        "argument",
        (*EXPLAIN, "--context", "nosuch"),
        2,
        'context "nosuch" not found',
        cluster=_cluster("kctx").build,
    ),
    Fault(
        "kube-endless-pages",
        "Kubernetes API hands out the same continue token forever",
        "kube-api",
        EXPLAIN,
        3,
        "continue token it already gave",
        cluster=_kube_fault(
            "kpage",
            "kube.nodes.list",
            status=200,
            body=b'{"kind":"NodeList","items":[],"metadata":{"continue":"again"}}',
        ),
    ),
    # -- ARM -----------------------------------------------------------------------------------------
    Fault(
        "arm-401",
        "ARM rejects the bearer token",
        "arm",
        EXPLAIN,
        3,
        "ARM rejected the credentials (401",
        cluster=_cluster("a401").build,
        prepare=_env(AKSLBCTL_ARM_TOKEN="expired-token-0b8e4d2a"),
    ),
    Fault(
        "arm-403",
        "The identity may not read the node resource group",
        "arm",
        EXPLAIN,
        3,
        "403 AuthorizationFailed",
        cluster=lambda: _cluster("a403").arm_forbidden().build(),
    ),
    Fault(
        "arm-404-resource-group",
        "-g names a resource group that does not exist",
        "arm",
        (*EXPLAIN, "-g", "MC_nosuch"),
        3,
        "ResourceGroupNotFound",
        cluster=_cluster("a404g").build,
    ),
    Fault(
        "arm-404-subscription",
        "--subscription names another subscription",
        "arm",
        (*EXPLAIN, "--subscription", "00000000-0000-0000-0000-000000000099"),
        3,
        "SubscriptionNotFound",
        cluster=_cluster("a404s").build,
    ),
    Fault(
        "arm-429-once",
        "ARM throttles the first request (Retry-After: 1): honoured, then answered",
        "arm",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=lambda: _cluster("a429o").arm_throttled(times=1).build(),
        check=_took_at_least(1.0),
    ),
    Fault(
        "arm-429-always",
        "ARM throttles every request (Retry-After: 1)",
        "arm",
        EXPLAIN,
        3,
        "ARM is throttling requests",
        cluster=lambda: _cluster("a429a").arm_throttled(times=None).build(),
    ),
    Fault(
        "arm-429-retry-after-hour",
        "ARM throttles with Retry-After: 3600 (not waited for)",
        "arm",
        EXPLAIN,
        3,
        "ARM asks to wait 3600 s",
        cluster=lambda: _cluster("a429h").arm_throttled(times=None, retry_after=3600).build(),
        bound=6,
        process=True,
    ),
    Fault(
        "arm-500-once",
        "ARM answers 500 once (retried)",
        "arm",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=lambda: _cluster("a500o").arm_server_error(times=1).build(),
    ),
    Fault(
        "arm-500-always",
        "ARM answers 500 to everything",
        "arm",
        EXPLAIN,
        3,
        "500 InternalServerError",
        cluster=lambda: _cluster("a500a").arm_server_error().build(),
    ),
    Fault(
        "arm-hang",
        "ARM never answers the load balancer list",
        "arm",
        (*EXPLAIN, "--deadline", "3"),
        3,
        "within the 3 s deadline",
        cluster=_arm_fault("ahang", "arm.loadBalancers.list", hang=True),
        bound=7,
        process=True,
    ),
    Fault(
        "arm-reset",
        "ARM resets every connection",
        "arm",
        EXPLAIN,
        3,
        "dropped the connection",
        cluster=_arm_fault("areset", reset=True),
    ),
    Fault(
        "arm-garbage",
        "ARM answers bytes that are not HTTP",
        "arm",
        EXPLAIN,
        3,
        "ARM endpoint",
        cluster=_arm_fault("agarb", garbage=True),
    ),
    Fault(
        "arm-not-json",
        "ARM answers 200 with a text page",
        "arm",
        EXPLAIN,
        3,
        "not JSON",
        cluster=_arm_fault(
            "anjs",
            "arm.loadBalancers.list",
            status=200,
            body=b"Service Unavailable (proxy)",
            headers=(("Content-Type", "text/plain"),),
        ),
    ),
    Fault(
        "arm-lb-probes-object",
        "ARM answers an LB whose probes field is an object",
        "arm",
        EXPLAIN,
        3,
        "probes: expected a list, got an object",
        cluster=_mutated("aprobj", lambda c: _lb(c)["properties"].__setitem__("probes", {"p": 1})),
    ),
    Fault(
        "arm-no-lb",
        "No load balancer in the node resource group",
        "arm",
        EXPLAIN,
        3,
        "has a frontend or rule for this Service",
        cluster=_mutated("anolb", lambda c: c.load_balancers.clear()),
    ),
    Fault(
        "arm-endpoint-plain-http",
        "AKSLBCTL_ARM_ENDPOINT is plain http to a remote host",
        "env",
        EXPLAIN,
        2,
        "must use https",
        cluster=_cluster("ahttp").build,
        prepare=_env(AKSLBCTL_ARM_ENDPOINT="http://management.example.com"),
    ),
    Fault(
        "arm-endpoint-not-url",
        "AKSLBCTL_ARM_ENDPOINT is not a URL",
        "env",
        EXPLAIN,
        2,
        "is not an http(s) URL",
        cluster=_cluster("aurl").build,
        prepare=_env(AKSLBCTL_ARM_ENDPOINT="management dot azure dot com"),
    ),
    Fault(
        "arm-endpoint-closed-port",
        "AKSLBCTL_ARM_ENDPOINT points at a closed port",
        "env",
        EXPLAIN,
        3,
        "could not be reached",
        cluster=_cluster("aclosed").build,
        prepare=_env(AKSLBCTL_ARM_ENDPOINT="http://127.0.0.1:9"),
    ),
    Fault(
        "arm-endless-pages",
        "ARM's load balancer list links its page to itself",
        "arm",
        EXPLAIN,
        3,
        "never ends",
        cluster=_cluster("apage").build,
        prepare=_self_linked_lb_page,
    ),
    Fault(
        "arm-429-past-deadline",
        "ARM throttles with Retry-After: 10 and the deadline is 8 s (no wait past it)",
        "arm",
        # Retry-After at MAX_RETRY_AFTER, the deadline below it but long enough for a loaded machine to
        # get to ARM: a run that waited would end at the deadline, saying so, not "asks to wait".
        (*EXPLAIN, "--deadline", "8"),
        3,
        "ARM asks to wait 10 s",
        cluster=lambda: _cluster("a429d").arm_throttled(times=None, retry_after=10).build(),
        bound=5,
        process=True,
    ),
    # -- ARM rule health (Azure's own view: optional) ----------------------------------------------------
    Fault(
        "rule-health-never-completes",
        "The rule-health operation never completes",
        "rule-health",
        # The wait for Azure's view lasts until the deadline (less a reserve): 8 s leave a loaded machine
        # the time to collect the evidence and probe before it, so that it is the optional wait that ends.
        ("explain", "svc/web", "-o", "json", "--deadline", "8"),
        0,
        verdict="up/probe-ok",
        cluster=lambda: _cluster("rhn").rule_health(polls=None, retry_after=1).build(),
        bound=12,
        process=True,
        check=_json_note("rule health"),
    ),
    Fault(
        "rule-health-403",
        "The identity may not call the rule-health action",
        "rule-health",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=lambda: _cluster("rh403").arm_forbidden("rule-health").build(),
        check=_json_note("missing permission"),
    ),
    Fault(
        "rule-health-500",
        "The rule-health POST answers 500",
        "rule-health",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=lambda: _cluster("rh500").arm_server_error(route="arm.rule-health").build(),
    ),
    Fault(
        "rule-health-poll-garbage",
        "Polling the rule-health operation answers garbage",
        "rule-health",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_arm_fault("rhpg", "arm.rule-health.poll", garbage=True),
    ),
    Fault(
        "rule-health-old-api",
        "ARM has no rule-health operation for the SDK's api-version",
        "rule-health",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=lambda: _cluster("rhold").rule_health(min_api_version="2099-01-01").build(),
    ),
    # -- node endpoints --------------------------------------------------------------------------------
    Fault(
        "node-hang",
        "A node accepts the health probe and never answers",
        "node",
        (*EXPLAIN, "--timeout", "1"),
        0,
        verdict="down/timeout",
        cluster=_local("nhang", B.Hang()),
        bound=6,
        process=True,
    ),
    Fault(
        "node-drip",
        "A node drips its answer, one byte per second",
        "node",
        (*EXPLAIN, "--timeout", "1"),
        0,
        verdict="down/timeout",
        cluster=_local("ndrip", B.Drip(interval=1.0)),
        bound=6,
        process=True,
    ),
    Fault(
        "node-reset-mid-answer",
        "A node resets the connection in the middle of its status line",
        "node",
        EXPLAIN,
        0,
        verdict="down/reset",
        cluster=_local("nrma", B.ResetMidAnswer()),
    ),
    Fault(
        "node-reset-on-accept",
        "A node resets every connection at once",
        "node",
        EXPLAIN,
        0,
        verdict="down/reset",
        cluster=_local("nroa", B.ResetOnAccept()),
    ),
    Fault(
        "node-10mb-body",
        "A node answers 200 with a 10 MB body",
        "node",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_local("nhuge", B.HugeBody()),
        process=True,
    ),
    Fault(
        "node-10mb-error-body",
        "A node answers 503 with a 10 MB body",
        "node",
        EXPLAIN,
        0,
        verdict="down/http-status",
        cluster=_local("nhuge5", B.HugeBody(status=503)),
        process=True,
    ),
    Fault(
        "node-invalid-json",
        "A node answers 200 with a truncated JSON body",
        "node",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_local("nijs", B.Http(default=B.Reply(200, b'{"localEndpoints": '))),
    ),
    Fault(
        "node-non-utf8-json",
        "A node answers 200 with a body that is not UTF-8",
        "node",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_local("nutf", B.Http(default=B.Reply(200, b'{"localEndpoints": "\xff\xfe"}'))),
    ),
    Fault(
        "node-deep-json",
        "A node answers 503 with JSON nested 100,000 deep",
        "node",
        EXPLAIN,
        0,
        verdict="down/http-status",
        cluster=_local("ndeep", B.Http(default=B.Reply(503, _nested(100_000)))),
    ),
    Fault(
        "node-http09",
        "A node answers HTTP/0.9-style text with no status line",
        "node",
        EXPLAIN,
        0,
        verdict="down/bad-response",
        cluster=_local("nh09", B.Garbage(data=b"<html>It works!</html>\n")),
    ),
    Fault(
        "node-binary-garbage",
        "A node answers binary noise",
        "node",
        EXPLAIN,
        0,
        verdict="down/bad-response",
        cluster=_local("nbin", B.Garbage()),
    ),
    Fault(
        "node-huge-head",
        "A node answers a 200 whose header block never ends (100 KB)",
        "node",
        EXPLAIN,
        0,
        verdict="down/bad-response",
        cluster=_local("nhead", B.Garbage(data=b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 100_000 + b"\r\n")),
    ),
    Fault(
        "node-broken-tls",
        "A node answers the TLS ClientHello of an Https probe with garbage",
        "node",
        (*EXPLAIN, *NI),
        0,
        verdict="down/tls-error",
        cluster=_https("ntls", B.BrokenTLS()),
    ),
    Fault(
        "node-plain-http-to-https",
        "A node answers an Https probe in plain HTTP",
        "node",
        (*EXPLAIN, *NI),
        0,
        verdict="down/tls-error",
        cluster=_https("nplain", B.Http(default=B.Reply(200, b"ok"))),
    ),
    Fault(
        "node-blackhole",
        "A node drops the probe's SYNs",
        "node",
        (*EXPLAIN, "--timeout", "1"),
        0,
        verdict="down/timeout",
        cluster=_local("nbh", B.Blackhole()),
        bound=6,
        process=True,
    ),
    Fault(
        "node-closed",
        "Nothing listens on the health check port of a node",
        "node",
        EXPLAIN,
        0,
        verdict="down/refused",
        cluster=_local("ncl", B.Closed()),
    ),
    Fault(
        "node-redirect",
        "A node redirects the probe (not followed)",
        "node",
        EXPLAIN,
        0,
        verdict="down/http-status",
        cluster=_local("nred", B.Http(default=B.Reply(302, b"", (("Location", "http://127.0.0.1:9/"),)))),
    ),
    Fault(
        "node-every-node-refuses",
        "Every node refuses the probe: the Service is dark",
        "node",
        EXPLAIN,
        1,
        verdict="down/refused",
        cluster=_every_node_closed("nall"),
    ),
    Fault(
        "probe-round-past-deadline",
        "A node never answers and --timeout outlasts the deadline: the round cannot finish",
        "node",
        # --timeout far past the hang limit: a round the deadline did not end would be killed as a hang.
        (*EXPLAIN, *NI, "--timeout", "120", "--deadline", "3"),
        3,
        "did not finish within the 3 s deadline",
        cluster=_local("ndead", B.Hang()),
        bound=6,
        process=True,
    ),
    Fault(
        "watch-round-past-deadline",
        "probe --count 2: a round cannot finish within --deadline (it bounds each round)",
        "node",
        # --deadline bounds collecting the evidence, then each round. The node never answers, so the
        # round cannot finish whatever the deadline: 5 s gives a loaded machine's collection time to
        # finish first, and should it not, the run still ends at the deadline with one line (exit 3).
        # --timeout far past the hang limit: a round the deadline did not end would be killed as a hang.
        ("probe", "svc/web", "--count", "2", "-o", "json", *NI, "--timeout", "120", "--deadline", "5"),
        3,
        (
            "probe round 1 did not finish within the 5 s deadline",
            "collecting the evidence (Kubernetes API, ARM) did not finish within the 5 s deadline",
        ),
        cluster=_local("nwdead", B.Hang()),
        bound=8,
        process=True,
        check=_stdout_whole_documents,
    ),
    # -- the cluster's documents -------------------------------------------------------------------------
    Fault(
        "service-ports-string",
        "The Service's ports field is a string",
        "cluster",
        EXPLAIN,
        3,
        "spec.ports: expected a list, got a string",
        cluster=_mutated("cps", lambda c: c.services[0]["spec"].__setitem__("ports", "80")),
    ),
    Fault(
        "service-cluster-ip",
        "The Service is of type ClusterIP",
        "cluster",
        EXPLAIN,
        2,
        "not LoadBalancer",
        cluster=_mutated("cip", _service_type("ClusterIP")),
    ),
    Fault(
        "service-lb-class",
        "The Service has a loadBalancerClass",
        "cluster",
        EXPLAIN,
        2,
        "not managed by the Azure cloud provider",
        cluster=_mutated("clbc", _lb_class),
    ),
    Fault(
        "annotation-invalid",
        "The health-probe-interval annotation is 'fast' (the provider's reconcile fails)",
        "cluster",
        EXPLAIN,
        1,
        verdict="up/probe-ok",
        cluster=_mutated(
            "cann", _annotation("service.beta.kubernetes.io/azure-load-balancer-health-probe-interval", "fast")
        ),
    ),
    Fault(
        "annotation-huge",
        "An annotation value of 1 MB",
        "cluster",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_mutated(
            "cbig",
            _annotation(
                "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path", "/" + "a" * 1_000_000
            ),
        ),
    ),
    Fault(
        "rule-dangling-probe",
        "A rule references a probe the LB does not have",
        "cluster",
        EXPLAIN,
        1,
        verdict="unknown/not-probed",
        cluster=_mutated("cdang", _dangling_probe),
    ),
    Fault(
        "pool-foreign-members",
        "Pool members belong to another cluster's scale set",
        "cluster",
        EXPLAIN,
        1,
        verdict="absent/not-in-backend-pool",
        cluster=_mutated("cforeign", _foreign_members),
        check=_finding("pool-without-nodes"),
    ),
    Fault(
        "node-without-internal-ip",
        "A Node has no InternalIP",
        "cluster",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_mutated("cnoip", _without_internal_ip),
    ),
    Fault(
        "duplicate-nodes",
        "The Node list holds the same Node twice",
        "cluster",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_mutated("cdup", _duplicate_node),
    ),
    Fault(
        "no-provider-id",
        "No Node has an Azure providerID",
        "cluster",
        EXPLAIN,
        3,
        "--subscription and -g",
        cluster=_mutated("cnpid", _no_provider_id),
    ),
    Fault(
        "endpointslice-endpoints-string",
        "An EndpointSlice's endpoints field is a string",
        "cluster",
        EXPLAIN,
        3,
        "endpoints: expected a list",
        cluster=_mutated("ceps", _endpoints_string),
    ),
    Fault(
        "annotation-braces",
        "The health-probe-interval annotation is '{5}' (braces: no format string)",
        "cluster",
        EXPLAIN,
        1,
        verdict="up/probe-ok",
        cluster=_mutated(
            "cbrace", _annotation("service.beta.kubernetes.io/azure-load-balancer-health-probe-interval", "{5}")
        ),
    ),
    # -- arguments ---------------------------------------------------------------------------------------
    Fault("arg-pod", "The resource argument names a pod", "argument", ("explain", "pod/web"), 2, "not a Service"),
    Fault(
        "arg-bad-name",
        "The Service name is not a DNS label",
        "argument",
        ("explain", "svc/Web_1"),
        2,
        "not a valid Service name",
    ),
    Fault(
        "arg-non-utf8",
        "The Service name is not UTF-8",
        "argument",
        ("explain", "svc/\udcff\udcfe"),
        2,
        "not a valid Service name",
    ),
    Fault(
        "arg-100k",
        "A resource argument of 100,000 characters",
        "argument",
        ("explain", "svc/" + "a" * 100_000),
        2,
        "not a valid Service name",
    ),
    Fault(
        "arg-bad-namespace",
        "The namespace is not a DNS label",
        "argument",
        ("explain", "svc/web", "-n", "a b"),
        2,
        "not a valid namespace name",
    ),
    Fault(
        "arg-negative-timeout", "--timeout -1", "argument", ("explain", "svc/web", "--timeout", "-1"), 2, "--timeout"
    ),
    Fault(
        "arg-nan-deadline", "--deadline nan", "argument", ("explain", "svc/web", "--deadline", "nan"), 2, "--deadline"
    ),
    Fault("arg-zero-deadline", "--deadline 0", "argument", ("diff", "svc/web", "--deadline", "0"), 2, "--deadline"),
    Fault("arg-output-xml", "-o xml", "argument", ("explain", "svc/web", "-o", "xml"), 2, "unknown output format"),
    Fault("arg-count-zero", "probe --count 0", "argument", ("probe", "svc/web", "--count", "0"), 2, "--count"),
    Fault(
        "arg-unknown-option",
        "An option akslbctl does not have",
        "argument",
        ("explain", "svc/web", "--frobnicate"),
        2,
        "No such option",
    ),
    Fault(
        "arg-provider-version-garbage",
        "--provider-version banana",
        "argument",
        ("explain", "-f", "{tmp}/case.json", "--provider-version", "banana"),
        2,
        "provider",
        prepare=_case(),
    ),
    Fault(
        "arg-huge-deadline",
        "--deadline 1e300 (beyond what a thread can wait)",
        "argument",
        ("explain", "-f", "{tmp}/case.json", "--deadline", "1e300", "-o", "json"),
        3,  # a case without probe results or Azure view: no verdict (contract §5.1)
        says="no verdict for",
        prepare=_case(),
    ),
    # -- case files ---------------------------------------------------------------------------------------
    Fault(
        "case-empty",
        "A case file of 0 bytes",
        "case-file",
        ("explain", "-f", "{tmp}/case.json"),
        2,
        "empty",
        prepare=_file(b""),
    ),
    Fault(
        "case-nul-bytes",
        "A case file of NUL bytes",
        "case-file",
        ("explain", "-f", "{tmp}/case.json"),
        2,
        "not valid JSON",
        prepare=_file(b"\x00" * 4096),
    ),
    Fault(
        "case-random-bytes",
        "A case file of random binary noise",
        "case-file",
        ("explain", "-f", "{tmp}/case.json"),
        2,
        "case.json",
        prepare=_file(lambda: os.urandom(65536)),
    ),
    Fault(
        "case-deep-nesting",
        "A case file nested 1,000,000 deep",
        "case-file",
        ("explain", "-f", "{tmp}/case.json"),
        2,
        "nested too deeply",
        prepare=_file(lambda: _nested(1_000_000)),
    ),
    Fault(
        "case-nested-service",
        "A case whose Service is nested 900 deep (under the parser's limit)",
        "case-file",
        ("explain", "-f", "{tmp}/case.json"),
        2,
        "service",
        prepare=_case(_set("service", json.loads(_nested(900)))),
    ),
    Fault(
        "case-sparse-1gb",
        "A 1 GB sparse case file",
        "case-file",
        ("explain", "-f", "{tmp}/case.json"),
        2,
        "too large",
        prepare=_sparse_gigabyte,
        process=True,
    ),
    Fault(
        "case-truncated",
        "A case file cut short",
        "case-file",
        ("diff", "-f", "{tmp}/case.json"),
        2,
        "truncated",
        prepare=_file(b'{"apiVersion": "akslbctl/v1alpha1", "kind": "Case", "service": {"metadata": {"na'),
    ),
    Fault(
        "case-top-level-list",
        "A case file holding a JSON list",
        "case-file",
        ("explain", "-f", "{tmp}/case.json"),
        2,
        "case.json",
        prepare=_file(b"[]"),
    ),
    Fault(
        "case-huge-integer",
        "A case file with a 100,000-digit number",
        "case-file",
        ("explain", "-f", "{tmp}/case.json"),
        2,
        "case.json",
        prepare=_file(b'{"n": ' + b"9" * 100_000 + b"}"),
    ),
    Fault(
        "case-ports-string",
        "A case file whose Service ports field is a string",
        "case-file",
        ("explain", "-f", "{tmp}/case.json"),
        2,
        "spec.ports",
        prepare=_case(_set("service.spec.ports", "80")),
    ),
    Fault(
        "case-lb-string",
        "A case file whose load balancer is a string",
        "case-file",
        ("explain", "-f", "{tmp}/case.json"),
        2,
        "case.json",
        prepare=_case(_set("loadBalancers.0", "kubernetes")),
    ),
    Fault(
        "case-lone-surrogates",
        "A case file whose names hold lone UTF-16 surrogates",
        "case-file",
        ("explain", "-f", "{tmp}/case.json"),
        3,  # a case without probe results or Azure view: no verdict (contract §5.1)
        says="no verdict for",
        prepare=_case(_set("nodes.0.metadata.name", "node-\ud800")),
    ),
    Fault(
        "case-dev-zero",
        "-f names a character device",
        "case-file",
        ("explain", "-f", "/dev/zero"),
        2,
        "not a regular file",
    ),
    Fault(
        "case-missing",
        "-f names a file that does not exist",
        "case-file",
        ("explain", "-f", "{tmp}/nope.json"),
        2,
        "no such file",
    ),
    Fault(
        "case-empty-folder",
        "-f names an empty folder",
        "case-file",
        ("explain", "-f", "{tmp}/dumps"),
        2,
        "dumps",
        prepare=_dump_folder({}),
    ),
    Fault(
        "case-folder-garbage",
        "A dump folder of unreadable files",
        "case-file",
        ("diff", "-f", "{tmp}/dumps"),
        2,
        "dumps",
        prepare=_dump_folder({"service.json": b"\xff\xfe\x00", "nodes.json": b"{"}),
    ),
    # -- output and signals -------------------------------------------------------------------------
    Fault(
        "stdout-closed",
        "The reader of stdout went away (| head -0)",
        "output",
        EXPLAIN,
        0,
        cluster=_cluster("oclosed").build,
        process=True,
        stdout_closed=True,
    ),
    Fault(
        "capture-arm-hang-deadline",
        "capture while ARM never answers: deadline, no file written",
        "arm",
        ("capture", "svc/web", "-f", "{tmp}/out.json", "--deadline", "3"),
        3,
        "deadline",
        cluster=_arm_fault("chang", "arm.loadBalancers.list", hang=True),
        bound=7,
        process=True,
        check=_no_file("out.json"),
    ),
    Fault(
        "interrupt-kube-hang",
        "Ctrl-C while the Kubernetes API hangs",
        "signal",
        EXPLAIN,
        130,
        cluster=_kube_fault("ihang", "kube.services.get", hang=True),
        process=True,
        bound=8,
        interrupt=_after_request("kube.services.get"),
        check=_stdout_whole_documents,
    ),
    Fault(
        "interrupt-kube-hang-worker",
        "Ctrl-C while a worker thread waits on a hung Node list",
        "signal",
        EXPLAIN,
        130,
        cluster=_kube_fault("ihangw", "kube.nodes.list", hang=True),
        process=True,
        bound=8,
        interrupt=_after_request("kube.nodes.list"),
        check=_stdout_whole_documents,
    ),
    Fault(
        "interrupt-probe-round",
        "Ctrl-C during a probe round against a hanging node",
        "signal",
        (*EXPLAIN, *NI, "--timeout", "30"),
        130,
        cluster=_local("iprobe", B.Hang()),
        process=True,
        bound=8,
        interrupt=_after_connection(1, HC),
        check=_stdout_whole_documents,
    ),
    Fault(
        "interrupt-watch",
        "Ctrl-C during probe --watch",
        "signal",
        ("probe", "svc/web", "--watch", "--interval", "0.2", "-o", "json", *NI),
        130,
        cluster=_cluster("iwatch").build,
        process=True,
        bound=10,
        interrupt=_after_output,
        check=_stdout_whole_documents,
    ),
    Fault(
        "interrupt-endless-interval",
        "Ctrl-C while probe waits out an --interval of 1e300 s",
        "signal",
        ("probe", "svc/web", "--count", "2", "--interval", "1e300", "-o", "json", *NI),
        130,
        cluster=_cluster("iinterval").build,
        process=True,
        bound=8,
        interrupt=_after_output,
        check=_stdout_whole_documents,
    ),
    Fault(
        "interrupt-complete",
        "Ctrl-C during completion against a hung API",
        "signal",
        ("__complete", "explain", ""),
        130,
        cluster=_kube_fault("icomp", "kube.services.list", hang=True),
        process=True,
        bound=8,
        interrupt=_after_request("kube.services.list"),
        settle=0.0,  # the main thread already waits (interruptibly) on the lookup when the request is sent
        # Completion gives up on its own after 2 s (candidates.DEADLINE, from before the kubernetes
        # client's import): on a loaded machine that may come before the signal can be sent — the run
        # then answers ":1" (no candidates) and exits 0, which is also documented behaviour.
        answered_exit=0,
    ),
    Fault(
        "interrupt-capture",
        "Ctrl-C during capture while ARM hangs: no file written",
        "signal",
        ("capture", "svc/web", "-f", "{tmp}/out.json"),
        130,
        cluster=_arm_fault("icapt", "arm.loadBalancers.list", hang=True),
        process=True,
        bound=8,
        interrupt=_after_request("arm.loadBalancers.list"),
        check=_no_file("out.json"),
    ),
)


NOTE = "not the ARM endpoint"

CATALOGUE += (
    # -- a token goes only to its own origin (issue 13 §1) -----------------------------------------
    Fault(
        "arm-nextlink-foreign-host",
        "ARM's load balancer list hands out a nextLink on another host (plain http)",
        "arm",
        EXPLAIN,
        3,
        NOTE,
        cluster=_cluster("nlhost").build,
        prepare=_next_link(_foreign()),
        check=_nothing_reached_the_listener,
    ),
    Fault(
        "arm-nextlink-foreign-https",
        "ARM's load balancer list hands out a nextLink on another host over https",
        "arm",
        EXPLAIN,
        3,
        NOTE,
        cluster=_cluster("nlhttps").build,
        prepare=_next_link(_foreign("https")),
        check=_nothing_reached_the_listener,
    ),
    Fault(
        "arm-nextlink-other-port",
        "ARM's nextLink names the endpoint's host with another port",
        "arm",
        EXPLAIN,
        3,
        NOTE,
        cluster=_cluster("nlport").build,
        prepare=_next_link(_foreign("http", "127.0.0.1")),
        check=_nothing_reached_the_listener,
    ),
    Fault(
        "arm-nextlink-other-provider",
        "ARM's nextLink points at another resource provider's path on the endpoint itself",
        "arm",
        EXPLAIN,
        3,
        "refused to send GET",
        cluster=_cluster("nlprov").build,
        prepare=_next_link(lambda ctx: _lb_list_url(ctx, ctx.lab.arm_url, "Microsoft.Compute/virtualMachineScaleSets")),
    ),
    Fault(
        "rule-health-location-foreign",
        "The rule-health operation's Location points at another host",
        "rule-health",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_cluster("rhloc").build,
        prepare=_arm_answer("arm.rule-health", 202, "Location", _foreign_url("/op")),
        check=_checks(_nothing_reached_the_listener, _json_note(NOTE)),
    ),
    Fault(
        "rule-health-async-foreign",
        "The rule-health operation's Azure-AsyncOperation points at another host",
        "rule-health",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_cluster("rhaso").build,
        prepare=_arm_answer("arm.rule-health", 202, "Azure-AsyncOperation", _foreign_url("/op")),
        check=_checks(_nothing_reached_the_listener, _json_note(NOTE)),
    ),
    Fault(
        "arm-302-foreign",
        "ARM answers the load balancer list with a 302 to another host",
        "arm",
        EXPLAIN,
        3,
        "redirect (302 to 127.0.0.2)",
        cluster=_cluster("a302").build,
        prepare=_arm_answer("arm.loadBalancers.list", 302, "Location", _foreign_url()),
        check=_nothing_reached_the_listener,
    ),
    Fault(
        "kube-302-foreign",
        "The Kubernetes API answers the Service GET with a 302 to another host",
        "kube-api",
        EXPLAIN,
        3,
        "with a redirect (302 to 127.0.0.2)",
        cluster=_cluster("k302").build,
        prepare=_kube_answer("kube.services.get", 302, _foreign_url()),
        check=_nothing_reached_the_listener,
    ),
    Fault(
        "kube-307-nodes",
        "The Kubernetes API answers the Node list with a 307 to another host",
        "kube-api",
        EXPLAIN,
        3,
        "with a redirect (307 to 127.0.0.2)",
        cluster=_cluster("k307").build,
        prepare=_kube_answer("kube.nodes.list", 307, _foreign_url()),
        check=_nothing_reached_the_listener,
    ),
    # -- read-only whatever the server answers (issue 13 §2) ---------------------------------------
    Fault(
        "rule-health-307-restart",
        "ARM redirects the rule-health POST (307) to a scale-set restart",
        "rule-health",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_cluster("rh307").build,
        prepare=_arm_answer("arm.rule-health", 307, "Location", _vmss_restart),
        check=_checks(_nothing_but_reads, _json_note("not followed")),
    ),
    Fault(
        "rule-health-308-restart",
        "ARM redirects the rule-health POST (308) to a scale-set restart",
        "rule-health",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_cluster("rh308").build,
        prepare=_arm_answer("arm.rule-health", 308, "Location", _vmss_restart),
        check=_checks(_nothing_but_reads, _json_note("not followed")),
    ),
    Fault(
        "rule-health-poll-restart",
        "The rule-health operation's Location is a scale-set restart on ARM itself",
        "rule-health",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_cluster("rhpoll").build,
        prepare=_arm_answer("arm.rule-health", 202, "Location", _vmss_restart),
        check=_checks(_nothing_but_reads, _json_note("refused to send GET")),
    ),
    # -- no credential left on disk after any ending (issue 13 §3) ---------------------------------
    Fault(
        "client-key-normal-exit",
        "A kubeconfig with client-key-data: nothing left in TMPDIR after the run",
        "env",
        EXPLAIN,
        0,
        cluster=_cluster("keyok").build,
        prepare=_client_cert_kubeconfig,
        process=True,
        check=_no_key_left,
    ),
    Fault(
        "sigterm-kube-hang",
        "SIGTERM (timeout, CI cancellation) while the API hangs, with client-key-data in the kubeconfig",
        "signal",
        EXPLAIN,
        143,
        cluster=_kube_fault("termk", "kube.nodes.list", hang=True),
        prepare=_client_cert_kubeconfig,
        process=True,
        bound=8,
        interrupt=_after_request("kube.nodes.list"),
        sig=signal.SIGTERM,
        check=_checks(_stdout_whole_documents, _no_key_left),
    ),
    Fault(
        "sighup-kube-hang",
        "SIGHUP (the terminal closed) while the API hangs, with client-key-data in the kubeconfig",
        "signal",
        EXPLAIN,
        129,
        cluster=_kube_fault("hupk", "kube.services.get", hang=True),
        prepare=_client_cert_kubeconfig,
        process=True,
        bound=8,
        interrupt=_after_request("kube.services.get"),
        sig=signal.SIGHUP,
        check=_checks(_stdout_whole_documents, _no_key_left),
    ),
    Fault(
        "sigterm-probe-round",
        "SIGTERM during a probe round against a hanging node",
        "signal",
        (*EXPLAIN, *NI, "--timeout", "30"),
        143,
        cluster=_local("termp", B.Hang()),
        prepare=_client_cert_kubeconfig,
        process=True,
        bound=8,
        interrupt=_after_connection(1, HC),
        sig=signal.SIGTERM,
        check=_checks(_stdout_whole_documents, _no_key_left),
    ),
    Fault(
        "sigterm-watch",
        "SIGTERM during probe --watch",
        "signal",
        ("probe", "svc/web", "--watch", "--interval", "0.2", "-o", "json", *NI),
        143,
        cluster=_cluster("termw").build,
        prepare=_client_cert_kubeconfig,
        process=True,
        bound=10,
        interrupt=_after_output,
        sig=signal.SIGTERM,
        check=_checks(_stdout_whole_documents, _no_key_left),
    ),
)


TABLE = ("explain", "svc/web", "-o", "wide")

CATALOGUE += (
    # -- nothing from outside reaches a terminal raw (issue 13 §4) --------------------------------
    Fault(
        "escape-node-name-osc52",
        "A Node name carries an OSC 52 clipboard write and a clear-screen",
        "cluster",
        TABLE,
        0,
        cluster=_mutated("esc1", _rename_node("aks-nodepool1-12345678-vmss000002" + OSC52 + CLEAR)),
        check=_no_control,
    ),
    Fault(
        "escape-node-name-newline",
        "A Node name holds a newline and a forged table row",
        "cluster",
        TABLE,
        0,
        cluster=_mutated("esc2", _rename_node("aks-nodepool1-12345678-vmss000002" + FORGED)),
        check=_no_control,
    ),
    Fault(
        "escape-node-name-bidi",
        "A Node name holds a bidi override (U+202E) and C1 controls",
        "cluster",
        ("explain", "svc/web", "--tree"),
        0,
        cluster=_mutated("esc3", _rename_node("aks-" + BIDI + "\x9b2J\x85")),
        check=_no_control,
    ),
    Fault(
        "escape-annotation-path",
        "A probe-path annotation holds escape sequences and a newline (diff table)",
        "cluster",
        ("diff", "svc/web"),
        1,
        cluster=_mutated(
            "esc4",
            lambda c: (
                _annotation("service.beta.kubernetes.io/azure-load-balancer-health-probe-protocol", "http")(c),
                _annotation(
                    "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path", "/h" + CLEAR + FORGED
                )(c),
            ),
        ),
        check=_no_control,
    ),
    Fault(
        "escape-label",
        "A Service label holds a bracketed rich markup and an escape",
        "cluster",
        TABLE,
        0,
        cluster=_mutated("esc5", _label("[/][blink]x\x1b[5m")),
        check=_no_control,
    ),
    Fault(
        "escape-kube-error-message",
        "The Kubernetes API's 403 message carries an OSC 52 write and a newline",
        "kube-api",
        TABLE,
        3,
        "403 Forbidden",
        cluster=_forbidden_message("nodes is forbidden" + OSC52 + "\nerror: forged second line"),
        check=_no_control,
    ),
    Fault(
        "escape-arm-error-message",
        "ARM's error code and message carry a clear-screen",
        "arm",
        TABLE,
        3,
        "ARM could not list load balancers",
        cluster=_arm_error_message("boom" + CLEAR),
        check=_no_control,
    ),
    Fault(
        "escape-probe-body",
        "A node's health answer is a 503 whose body is escape sequences",
        "node",
        ("explain", "svc/web", "-o", "wide", *NI),
        0,  # two nodes of three answer 200
        cluster=_local(
            "esc8",
            B.Http(default=B.Reply(503, (OSC52 + CLEAR + FORGED).encode(), (("Content-Type", "text/plain"),))),
        ),
        check=_no_control,
    ),
    Fault(
        "escape-case-file",
        "A case file's Service and Node names carry escapes and bidi overrides",
        "case-file",
        ("explain", "-f", "{tmp}/case.json", "-o", "wide"),
        3,
        "no verdict for",
        prepare=_case(_set("nodes.1.metadata.name", "aks-" + OSC52 + BIDI + FORGED)),
        check=_no_control,
    ),
    Fault(
        "escape-probe-watch-table",
        "probe's table while a Node name carries a clear-screen",
        "cluster",
        ("probe", "svc/web", "--count", "1", "--interval", "0", *NI),
        0,
        cluster=_mutated("esc10", _rename_node("aks-nodepool1-12345678-vmss000002" + CLEAR + FORGED)),
        check=_no_control,
    ),
    Fault(
        "escape-completion",
        "Completion candidates: Service names holding escapes are never offered",
        "kube-api",
        ("__complete", "explain", ""),
        0,
        cluster=_service_list_names("evil" + OSC52, "web2" + FORGED),
        process=True,
        check=_completion_safe,
    ),
)


CATALOGUE += (
    # -- masking survives truncation; --redact and tenant ids in free text (issue 13 §5) ------------
    Fault(
        "mask-kube-message-cut",
        "A 403 message echoes the kubeconfig token where the message is cut (300 characters)",
        "kube-api",
        EXPLAIN,
        3,
        "403 Forbidden",
        cluster=_cluster("mcut").build,
        prepare=_echoing_403("kube.nodes.list", lambda ctx: "x" * 273 + " " + ctx.lab.kube_token),
        check=_no_fragment,
    ),
    Fault(
        "mask-kube-token-half",
        "A 403 message echoes the second half of the kubeconfig token",
        "kube-api",
        EXPLAIN,
        3,
        "403 Forbidden",
        cluster=_cluster("mhalf").build,
        prepare=_echoing_403("kube.nodes.list", lambda ctx: "token ending " + ctx.lab.kube_token[14:] + " refused"),
        check=_no_fragment,
    ),
    Fault(
        "mask-jwt-signature",
        "A 403 message echoes only the signature segment of the kubeconfig's JWT",
        "kube-api",
        EXPLAIN,
        3,
        "403 Forbidden",
        cluster=_cluster("mjwt").build,
        prepare=_then(_jwt_kubeconfig, _echoing_403("kube.*", lambda ctx: "bad signature " + JWT.rsplit(".", 1)[1])),
        check=_no_fragment,
    ),
    Fault(
        "mask-arm-token-fragment",
        "ARM's error message echoes a fragment of the bearer token",
        "arm",
        EXPLAIN,
        3,
        "InvalidAuthenticationTokenTenant",
        cluster=_cluster("marm").build,
        prepare=_echoing_arm_error(lambda ctx: f"token '{ctx.lab.arm_token[6:30]}…' is for another tenant"),
        check=_no_fragment,
    ),
    Fault(
        "redact-tenant-free-text",
        "capture --redact: a tenant id standing in free text (an AADSTS message in an annotation)",
        "cluster",
        ("capture", "svc/web", "-f", "{tmp}/out.json", "--redact", *NI),
        0,
        cluster=_mutated("rten", _tenant_in_free_text),
        check=_file_lacks("out.json", TENANT),
    ),
)


CATALOGUE += (
    # -- files that are not regular files; write errors on stdout (issue 13 §6, §7) ---------------
    Fault(
        "capture-dev-null",
        "capture -f /dev/null: written through, the device is never replaced",
        "output",
        ("capture", "svc/web", "-f", "{tmp}/null", *NI),
        0,
        cluster=_cluster("cnull").build,
        prepare=_null_device,
        process=True,
        check=_checks(_still("null", "chardev"), _still("/dev/null", "chardev")),
    ),
    Fault(
        "capture-fifo-no-reader",
        "capture -f onto a FIFO nobody reads: refused at once, never blocking",
        "output",
        ("capture", "svc/web", "-f", "{tmp}/pipe", *NI),
        2,
        "pipe nobody reads",
        cluster=_cluster("cfifo").build,
        prepare=_mkfifo("pipe"),
        process=True,
        check=_still("pipe", "fifo"),
    ),
    Fault(
        "capture-planted-link",
        "capture -f onto a planted symbolic link: the link is replaced, its target untouched",
        "output",
        ("capture", "svc/web", "-f", "{tmp}/out.json", *NI),
        0,
        cluster=_cluster("clink").build,
        prepare=_planted_link("out.json"),
        check=_checks(_victim_untouched, _still("out.json", "file")),
    ),
    Fault(
        "svg-fifo-no-reader",
        "--svg onto a FIFO nobody reads: refused, never blocking",
        "output",
        ("explain", "svc/web", "--svg", "{tmp}/pipe", *NI),
        2,
        "pipe nobody reads",
        cluster=_cluster("sfifo").build,
        prepare=_mkfifo("pipe"),
        process=True,
        check=_still("pipe", "fifo"),
    ),
    Fault(
        "svg-planted-link",
        "--svg onto a planted symbolic link: not followed",
        "output",
        ("explain", "svc/web", "--svg", "{tmp}/pic.svg", *NI),
        0,
        cluster=_cluster("slink").build,
        prepare=_planted_link("pic.svg"),
        check=_checks(_victim_untouched, _still("pic.svg", "file")),
    ),
    Fault(
        "png-planted-link",
        "--png onto a planted symbolic link: not followed (the same writer as --svg)",
        "output",
        ("explain", "svc/web", "--png", "{tmp}/pic.png", *NI),
        0,
        cluster=_cluster("plink").build,
        prepare=_planted_link("pic.png"),
        check=_checks(_victim_untouched, _still("pic.png", "file")),
    ),
    Fault(
        "png-fifo-no-reader",
        "--png onto a FIFO nobody reads: refused, never blocking",
        "output",
        ("explain", "svc/web", "--png", "{tmp}/pipe", *NI),
        2,
        "pipe nobody reads",
        cluster=_cluster("pfifo").build,
        prepare=_mkfifo("pipe"),
        process=True,
        check=_still("pipe", "fifo"),
    ),
    Fault(
        "stdout-full-disk",
        "stdout is a full disk (/dev/full): one line and a failing exit, never 0",
        "output",
        EXPLAIN,
        3,
        "could not write the output",
        cluster=_cluster("ofull").build,
        process=True,
        streams="full",
    ),
    Fault(
        "stdout-fd-closed",
        "akslbctl started with fd 1 closed (>&-)",
        "output",
        EXPLAIN,
        0,
        cluster=_cluster("ofd1").build,
        process=True,
        streams="no-fd1",
    ),
    Fault(
        "stderr-fd-closed",
        "akslbctl started with fd 2 closed (2>&-)",
        "output",
        EXPLAIN,
        0,
        cluster=_cluster("ofd2").build,
        process=True,
        streams="no-fd2",
        check=_whole_document,
    ),
    # -- round two: what a probe is judged on, what may be probed (issue 13 §8) -----------------------
    Fault(
        "node-tcp-accept-reset",
        "A node accepts a Tcp probe's connection and resets it at once",
        "node",
        (*EXPLAIN, *NI),
        0,
        verdict="up/probe-ok",
        cluster=_tcp_node("tcprst", B.ResetOnAccept()),
    ),
    Fault(
        "node-tcp-accept-reset-rounds",
        "probe --count 4: an accept-then-reset node does not flip between rounds",
        "node",
        ("probe", "svc/web", "-o", "json", "--count", "4", "--interval", "0", *NI),
        0,
        cluster=_tcp_node("tcprst4", B.ResetOnAccept()),
        check=_every_round("ok"),
    ),
    Fault(
        "node-https-accept-reset-rounds",
        "probe --count 4: an Https node that accepts and resets is tls-error every round, never reset",
        "node",
        ("probe", "svc/web", "-o", "json", "--count", "4", "--interval", "0", *NI),
        0,
        cluster=_https("httpsrst4", B.ResetOnAccept()),
        check=_every_round("tls-error"),
    ),
    Fault(
        "node-http-accept-reset-rounds",
        "probe --count 4: an Http node that accepts and resets is reset every round",
        "node",
        ("probe", "svc/web", "-o", "json", "--count", "4", "--interval", "0", *NI),
        0,
        cluster=_local("httprst4", B.ResetOnAccept()),
        check=_every_round("reset"),
    ),
    Fault(
        "node-http-accept-close-rounds",
        "probe --count 4: an Http node that accepts and closes (FIN) is reset every round, never bad-response",
        "node",
        ("probe", "svc/web", "-o", "json", "--count", "4", "--interval", "0", *NI),
        0,
        cluster=_local("httpfin4", B.CloseOnAccept()),
        check=_every_round("reset"),
    ),
    Fault(
        "node-tcp-accept-close",
        "A node accepts a Tcp probe's connection and closes it at once (FIN)",
        "node",
        (*EXPLAIN, *NI),
        0,
        verdict="up/probe-ok",
        cluster=_tcp_node("tcpfin", B.CloseOnAccept()),
    ),
    Fault(
        "node-client-cert-tls13",
        "An Https node demands a client certificate (TLS 1.3: refused after the handshake)",
        "node",
        (*EXPLAIN, *NI),
        0,
        verdict="down/tls-error",
        cluster=_https("mtls13", _MTLS),
        check=_detail_says("client certificate"),
    ),
    Fault(
        "node-client-cert-http-400",
        "An Https node asks for a client certificate and answers 400 without one (nginx ssl_verify_client)",
        "node",
        (*EXPLAIN, *NI),
        0,
        verdict="down/tls-error",
        cluster=_https("mtls400", B.Http(default=B.Reply(400, b"No required SSL certificate was sent"), tls=True,
                                          client_cert="optional")),
        check=_detail_says("client certificate"),
    ),
    Fault(
        "node-client-cert-optional-200",
        "An Https node asks for a client certificate but answers 200 without one: up",
        "node",
        (*EXPLAIN, *NI),
        0,
        verdict="up/probe-ok",
        cluster=_https("mtls200", B.Http(default=_MTLS.default, tls=True, client_cert="optional")),
    ),
    Fault(
        "node-client-cert-tls12",
        "An Https node demands a client certificate (TLS 1.2: refused inside the handshake)",
        "node",
        (*EXPLAIN, *NI),
        0,
        verdict="down/tls-error",
        cluster=_https("mtls12", B.Http(default=_MTLS.default, tls=True, client_cert=True, tls_max="1.2")),
    ),
    Fault(
        "arm-probe-port-zero",
        "ARM's probe port is 0",
        "arm",
        (*EXPLAIN, *NI),
        1,
        verdict="unknown/not-probed",
        cluster=_mutated("pport0", _probe_field("port", 0)),
        check=_checks(_finding("probe-target-invalid"), _detail_says("not a TCP port")),
    ),
    Fault(
        "arm-probe-port-70000",
        "ARM's probe port is 70000",
        "arm",
        (*EXPLAIN, *NI),
        1,
        verdict="unknown/not-probed",
        cluster=_mutated("pport7", _probe_field("port", 70000)),
        check=_checks(_finding("probe-target-invalid"), _detail_says("not a TCP port")),
    ),
    Fault(
        "arm-probe-port-negative",
        "ARM's probe port is -1",
        "arm",
        (*EXPLAIN, *NI),
        1,
        verdict="unknown/not-probed",
        cluster=_mutated("pportn", _probe_field("port", -1)),
        check=_finding("probe-target-invalid"),
    ),
    Fault(
        "arm-probe-path-crlf",
        "ARM's Http probe path holds CR LF and a forged header",
        "arm",
        (*EXPLAIN, *NI),
        1,
        verdict="unknown/not-probed",
        cluster=_mutated("pcrlf", _probe_field("requestPath", "/healthz\r\nX-Injected: 1"), _local_builder),
        prepare=_count_connections(1, HC),
        check=_checks(_finding("probe-target-invalid"), _nothing_reached(1, HC)),
    ),
    Fault(
        "arm-probe-path-space",
        "ARM's Http probe path holds a space and a NUL",
        "arm",
        (*EXPLAIN, *NI),
        1,
        verdict="unknown/not-probed",
        cluster=_mutated("pspace", _probe_field("requestPath", "/a b\x00"), _local_builder),
        check=_finding("probe-target-invalid"),
    ),
    Fault(
        "node-address-unspecified",
        "A Node's InternalIP is 0.0.0.0",
        "cluster",
        (*EXPLAIN, *NI),
        0,
        verdict="unknown/not-probed",
        cluster=_mutated("addr0", _node_ip("0.0.0.0")),
        check=_checks(_finding("probe-target-invalid"), _detail_says("unspecified")),
    ),
    Fault(
        "node-address-zero-shorthand",
        "A Node's InternalIP is 0 (what connect() takes for 0.0.0.0)",
        "cluster",
        (*EXPLAIN, *NI),
        0,
        verdict="unknown/not-probed",
        cluster=_mutated("addr0s", _node_ip("0")),
        check=_finding("probe-target-invalid"),
    ),
    Fault(
        "node-address-hostname",
        "A Node's InternalIP is a host name (localhost)",
        "cluster",
        (*EXPLAIN, *NI),
        0,
        verdict="unknown/not-probed",
        cluster=_mutated("addrh", _node_ip("localhost")),
        check=_checks(_finding("probe-target-invalid"), _detail_says("not an IP address")),
    ),
    Fault(
        "node-address-link-local",
        "A Node's InternalIP is 169.254.169.254 (the metadata service)",
        "cluster",
        (*EXPLAIN, *NI),
        0,
        verdict="unknown/not-probed",
        cluster=_mutated("addrll", _node_ip("169.254.169.254")),
        check=_checks(_finding("probe-target-invalid"), _detail_says("link-local")),
    ),
    Fault(
        "node-address-broadcast",
        "A Node's InternalIP is the broadcast address",
        "cluster",
        (*EXPLAIN, *NI),
        0,
        verdict="unknown/not-probed",
        cluster=_mutated("addrbc", _node_ip("255.255.255.255")),
        check=_finding("probe-target-invalid"),
    ),
    Fault(
        "node-address-newline",
        "A Node's InternalIP is 10.0.0.4 with a line break and a forged row",
        "cluster",
        (*EXPLAIN, *NI),
        0,
        verdict="unknown/not-probed",
        cluster=_mutated("addrnl", _node_ip("10.0.0.4\naks-forged 1.2.3.4")),
        check=_finding("probe-target-invalid"),
    ),
    # -- round two: real inputs (issue 13 §10) ---------------------------------------------------------
    Fault(
        "case-service-without-uid",
        "A case file's Service has no metadata.uid (a manifest, not API output)",
        "case-file",
        ("explain", "-f", "{tmp}/case.json"),
        2,
        "has no metadata.uid",
        prepare=_case(_drop("service.metadata.uid")),
    ),
    Fault(
        "dumps-service-without-uid",
        "A dump folder's service.json is the chart's manifest (no metadata.uid)",
        "case-file",
        ("diff", "-f", "{tmp}/dumps"),
        2,
        "has no metadata.uid",
        prepare=_dumps(_drop("service.metadata.uid")),
    ),
    Fault(
        "case-service-uid-empty",
        "A case file's Service has metadata.uid \"\"",
        "case-file",
        ("explain", "-f", "{tmp}/case.json"),
        2,
        "has no metadata.uid",
        prepare=_case(_set("service.metadata.uid", "")),
    ),
    Fault(
        "case-service-uid-not-uuid",
        "A case file's Service has metadata.uid 'web-1' (not a UUID)",
        "case-file",
        ("explain", "-f", "{tmp}/case.json"),
        2,
        "not a Kubernetes UID",
        prepare=_case(_set("service.metadata.uid", "web-1")),
    ),
    Fault(
        "dumps-without-endpointslices",
        "A dump folder without endpointslices.json: the endpoints are unknown, not none",
        "case-file",
        ("explain", "-f", "{tmp}/dumps", "-o", "json"),
        3,  # no probe results recorded: every member unknown (contract §5.1)
        "no verdict",
        prepare=_dumps(omit=("endpointslices",)),
        check=_checks(_no_finding("no-ready-endpoints"), _expected_none, _json_note("the endpoints are unknown")),
    ),
    Fault(
        "case-without-endpointslices",
        "A case file without an endpointSlices key: the endpoints are unknown, not none",
        "case-file",
        ("explain", "-f", "{tmp}/case.json", "-o", "json"),
        3,
        "no verdict",
        prepare=_case(_drop("endpointSlices")),
        check=_checks(_no_finding("no-ready-endpoints"), _expected_none),
    ),
    Fault(
        "dumps-empty-endpointslices",
        "A dump folder whose endpointslices.json is an empty List: no endpoint, said so",
        "case-file",
        ("explain", "-f", "{tmp}/dumps", "-o", "json"),
        3,
        "no verdict",
        prepare=_dumps(_set("endpointslices.items", [])),
        check=_finding("no-ready-endpoints"),
    ),
    Fault(
        "lb-user-pinned-by-ip",
        "The Service's IP is on a user's load balancer with nothing the provider built for the Service",
        "arm",
        (*EXPLAIN, *NI),
        3,
        "user-lb has frontend user-frontend on an IP of this Service but nothing the cloud provider built",
        cluster=_mutated("userlb", _user_lb_pinned_by_ip),
    ),
    Fault(
        "lb-user-pinned-by-ip-diff",
        "diff: the Service's IP is on a user's load balancer (not adopted: the whole LB is missing)",
        "arm",
        ("diff", "svc/web", "-o", "json"),
        3,
        "user-lb has frontend user-frontend on an IP of this Service but nothing the cloud provider built",
        cluster=_mutated("userlbd", _user_lb_pinned_by_ip),
    ),
    Fault(
        "no-provider-id-with-scope",
        "No Node has a providerID; the scope is given: members join their Nodes by computer name",
        "cluster",
        (*EXPLAIN, *NI, *SCOPE),
        0,
        verdict="up/probe-ok",
        cluster=_mutated("npids", _no_provider_id),
        check=_checks(_says_not("outside the cluster"), _no_finding("pool-without-nodes")),
    ),
    Fault(
        "no-provider-id-renamed-node",
        "No Node has a providerID and one Node is not named like its instance: not 'outside the cluster'",
        "cluster",
        (*EXPLAIN, *NI, *SCOPE),
        0,
        verdict="up/probe-ok",
        cluster=_mutated("npidr", _no_provider_id_renamed),
        check=_says_not("outside the cluster"),
    ),
    Fault(
        "arm-number-of-probes-1-24",
        "Kubernetes 1.24 cluster, probes with only numberOfProbes (written by a CCM before v1.24.18): no drift",
        "arm",
        ("diff", "svc/web", "-o", "json"),
        0,
        cluster=_mutated("nop124", _number_of_probes(), _versioned("v1.24.9")),
        check=_drift(),
    ),
    Fault(
        "arm-number-of-probes-1-26",
        "Kubernetes 1.26 cluster, probes with only numberOfProbes (a CCM before v1.26.8): no drift",
        "arm",
        ("diff", "svc/web", "-o", "json"),
        0,
        cluster=_mutated("nop126", _number_of_probes(), _versioned("v1.26.3")),
        check=_drift(),
    ),
    Fault(
        "arm-number-of-probes-1-22",
        "Kubernetes 1.22 cluster, probes with only numberOfProbes (every provider of that line wrote it): no drift",
        "arm",
        ("diff", "svc/web", "-o", "json"),
        0,
        cluster=_mutated("nop122", _number_of_probes(), _versioned("v1.22.11")),
        check=_drift(),
    ),
    Fault(
        "arm-number-of-probes-1-25-wrong",
        "Kubernetes 1.25 cluster, numberOfProbes 3 where the provider writes 2: drift on that field",
        "arm",
        ("diff", "svc/web", "-o", "json"),
        1,
        cluster=_mutated("nop125", _number_of_probes(3), _versioned("v1.25.5")),
        check=_drift("numberOfProbes"),
    ),
    Fault(
        "arm-number-of-probes-1-29",
        "Kubernetes 1.29 cluster (its CCM writes probeThreshold), probes with only numberOfProbes: drift",
        "arm",
        ("diff", "svc/web", "-o", "json"),
        1,
        cluster=_mutated("nop129", _number_of_probes(), _versioned("v1.29.4")),
        check=_drift("probeThreshold"),
    ),
    # -- round two: one unrelated object never ends the diagnosis (issue 13 §9) ------------------------
    Fault(
        "arm-other-rule-unknown-protocol",
        "Another Service's rule on the LB has a protocol this version does not know (Quic)",
        "arm",
        (*EXPLAIN, *NI),
        0,
        verdict="up/probe-ok",
        cluster=_mutated("orq", _other_rule(protocol="Quic")),
        check=_notes_say("expected one of Tcp, Udp, All, got 'Quic'"),
    ),
    Fault(
        "arm-other-rule-port-string",
        "Another Service's rule on the LB has frontendPort 'eighty'",
        "arm",
        (*EXPLAIN, *NI),
        0,
        verdict="up/probe-ok",
        cluster=_mutated("orps", _other_rule(frontendPort="eighty")),
        check=_notes_say("skipped rule"),
    ),
    Fault(
        "arm-other-probe-unknown-protocol",
        "Another Service's probe on the LB has protocol Grpc",
        "arm",
        (*EXPLAIN, *NI),
        0,
        verdict="up/probe-ok",
        cluster=_mutated("opg", _other_probe(protocol="Grpc")),
        check=_notes_say("skipped probe"),
    ),
    Fault(
        "arm-other-lb-unknown-enum",
        "Another LB of the resource group has a rule with an unknown protocol",
        "arm",
        (*EXPLAIN, *NI),
        0,
        verdict="up/probe-ok",
        cluster=_mutated("olbe", _other_lb(_set("properties.loadBalancingRules.0.properties.protocol", "Sctp"))),
        check=_notes_say("skipped rule"),
    ),
    Fault(
        "arm-other-lb-malformed-sku",
        "Another LB of the resource group has a sku that is a string",
        "arm",
        (*EXPLAIN, *NI),
        0,
        verdict="up/probe-ok",
        cluster=_mutated("olbs", _other_lb(lambda lb: lb.__setitem__("sku", "Standard"))),
        check=_notes_say("skipped LoadBalancer"),
    ),
    Fault(
        "arm-other-lb-diff",
        "diff: another Service's rule with an unknown protocol is skipped, no drift",
        "arm",
        ("diff", "svc/web", "-o", "json"),
        0,
        cluster=_mutated("olbd", _other_rule(protocol="Quic")),
        check=_checks(_drift(), _notes_say("skipped rule")),
    ),
    Fault(
        "arm-own-rule-unknown-protocol",
        "The Service's own rule has a protocol this version does not know: strict",
        "arm",
        (*EXPLAIN, *NI),
        3,
        "expected one of Tcp, Udp, All, got 'Quic'",
        cluster=_mutated(
            "owrq", lambda c: _lb(c)["properties"]["loadBalancingRules"][0]["properties"].update(protocol="Quic")
        ),
    ),
    Fault(
        "cluster-node-malformed",
        "A Node that is no pool member of note has spec.taints as a string",
        "cluster",
        (*EXPLAIN, *NI),
        0,
        verdict="up/probe-ok",
        cluster=_mutated("nodem", _node_field(2, "spec.taints", "NoSchedule")),
        check=_notes_say("spec.taints: expected a list"),
    ),
    Fault(
        "kube-slices-selector-ignored-malformed",
        "The API ignores the label selector and hands out another Service's malformed EndpointSlice",
        "kube-api",
        (*EXPLAIN, *NI),
        0,
        verdict="up/probe-ok",
        cluster=_cluster("sselm").build,
        prepare=_slices_answer(_other_slice("10.244.0.5")),
    ),
    Fault(
        "kube-slices-selector-ignored-ready",
        "The API ignores the label selector: another Service's ready endpoints are not this Service's",
        "kube-api",
        (*EXPLAIN, *NI),
        1,
        cluster=lambda: _no_endpoints("sselr").build(),
        prepare=_slices_answer(_other_slice(_ready_everywhere)),
        check=_finding("no-ready-endpoints"),
    ),
    Fault(
        "kube-slices-selector-ignored-unlabelled",
        "The API ignores the label selector and hands out a hand-made slice without the service-name label",
        "kube-api",
        (*EXPLAIN, *NI),
        1,
        cluster=lambda: _no_endpoints("sselu").build(),
        prepare=_slices_answer(_other_slice(_ready_everywhere, labelled=False)),
        check=_finding("no-ready-endpoints"),
    ),
    Fault(
        "case-other-slice-malformed",
        "A case file holds another Service's malformed EndpointSlice",
        "case-file",
        ("explain", "-f", "{tmp}/case.json", "-o", "json"),
        3,
        "no verdict",
        prepare=_case(lambda d: d["endpointSlices"].append(_OTHER_SLICE)),
    ),
    Fault(
        "case-other-nsg-malformed",
        "A case file's NSG has a rule whose priority is 'high'",
        "case-file",
        ("explain", "-f", "{tmp}/case.json", "-o", "json"),
        3,
        "no verdict",
        prepare=_case(lambda d: d.__setitem__("securityGroups", [_BAD_NSG])),
    ),
    Fault(
        "kube-403-endpointslices",
        "RBAC refuses the EndpointSlice list: the endpoints are unknown, not none",
        "kube-api",
        (*EXPLAIN, *NI),
        0,
        verdict="up/probe-ok",
        cluster=_kube_fault("k403e", "kube.endpointslices.list", status=403),
        check=_checks(_no_finding("no-ready-endpoints"), _json_note("the endpoints are unknown")),
    ),
    Fault(
        "probe-cmd-probe-port-70000",
        "probe: ARM's probe port is 70000 on every member",
        "arm",
        ("probe", "svc/web", "--count", "1", "-o", "json", *NI),
        3,
        "no member can be probed as the LB probes it",
        cluster=_mutated("pport7p", _probe_field("port", 70000)),
    ),
    Fault(
        "probe-cmd-node-address-hostname",
        "probe: a Node's InternalIP is a host name; it is shown, never resolved nor probed",
        "cluster",
        ("probe", "svc/web", "--count", "2", "--interval", "0", "-o", "json", *NI),
        0,
        cluster=_mutated("addrhp", _node_ip("localhost")),
        check=_every_round(None),  # no outcome: nothing was sent
    ),
    Fault(
        "arm-other-pool-malformed",
        "An LB pool no rule of the Service uses (an outbound pool) has backendIPConfigurations as an object",
        "arm",
        (*EXPLAIN, *NI),
        0,
        verdict="up/probe-ok",
        cluster=_mutated("opool", _extra_pool({"backendIPConfigurations": {"id": "x"}})),
        check=_notes_say("skipped pool"),
    ),
    Fault(
        "case-no-provider-id-unjoined",
        "A case whose Nodes have no providerID and names unlike their instances: members unjoined, not 'outside'",
        "case-file",
        ("explain", "-f", "{tmp}/case.json", "-o", "json"),
        3,
        "no verdict",
        prepare=_case(_case_nodes_without_provider_id),
        check=_checks(
            _says_not("outside the cluster"),
            _says_not("not an Azure VM"),
            _finding_severity("pool-without-nodes", "warning"),
        ),
    ),
)


# -- bounded reads (issue 13 §11, §12) ----------------------------------------------------------------


_MIB_OF_ZEROS = bytes(1 << 20)


@functools.cache
def _gzip_bomb(inflated_mib: int = 1024) -> bytes:
    """gzip members of 16 MiB of zeros each (~16 KB compressed), concatenated: ``inflated_mib`` MiB
    once inflated, about a thousandth of that on the wire. Built a MiB at a time: the process that
    runs the catalogue stays small (a child's peak RSS counts the parent's at the fork)."""
    import zlib

    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    member = b"".join(c.compress(_MIB_OF_ZEROS) for _ in range(16)) + c.flush()
    return member * max(1, inflated_mib // 16)


@functools.cache
def _deflate_bomb(inflated_mib: int = 1024) -> bytes:
    import zlib

    c = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS)
    return b"".join(c.compress(_MIB_OF_ZEROS) for _ in range(inflated_mib)) + c.flush()


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data)


def _encoded(api: str, route: str, body: Callable[[Context], bytes], encoding: str = "gzip", **more: Any):
    """``api`` answers ``route`` with 200, ``body(ctx)`` and ``Content-Encoding: encoding``."""

    def prepare(ctx: Context) -> None:
        from akslbctl.lab.httpserver import Fault as LabFault

        assert ctx.lab is not None
        headers = (("Content-Type", "application/json"), ("Content-Encoding", encoding))
        more.setdefault("status", 200)
        ctx.lab.add_fault(LabFault(api=api, route=route, body=body(ctx), headers=headers, **more))

    return prepare


def _real_service(ctx: Context) -> bytes:
    assert ctx.lab is not None
    return json.dumps(ctx.lab.cluster.services[0]).encode()


def _real_lb_list(ctx: Context) -> bytes:
    assert ctx.lab is not None
    return json.dumps({"value": ctx.lab.cluster.load_balancers}).encode()


def _answer(
    api: str, route: str, body: Callable[[Context], bytes], content_type: str = "application/json", **more: Any
) -> Callable[[Context], None]:
    """``api`` answers ``route`` with 200 and ``body(ctx)`` (plain JSON, unless ``content_type``)."""

    def prepare(ctx: Context) -> None:
        from akslbctl.lab.httpserver import Fault as LabFault

        assert ctx.lab is not None
        headers = (("Content-Type", content_type),)
        ctx.lab.add_fault(LabFault(api=api, route=route, status=200, body=body(ctx), headers=headers, **more))

    return prepare


def _endless_continue(per_page: int) -> Callable[[Context], None]:
    """The Node list hands out a new continue token with every page, ``per_page`` small Nodes each."""

    def prepare(ctx: Context) -> None:
        from akslbctl.lab.httpserver import Fault as LabFault
        from akslbctl.lab.httpserver import json_response

        assert ctx.lab is not None
        pages = iter(range(10**9))

        def respond(request):
            n = next(pages)
            items = [{"metadata": {"name": f"n{n}-{i}"}} for i in range(per_page)]
            return json_response(200, {"kind": "NodeList", "items": items, "metadata": {"continue": f"page-{n + 1}"}})

        ctx.lab.add_fault(LabFault(api="kube", route="kube.nodes.list", respond=respond))

    return prepare


def _endless_next_links(per_page: int) -> Callable[[Context], None]:
    """ARM's load balancer list hands out a new nextLink (same origin, same list) with every page."""

    def prepare(ctx: Context) -> None:
        from akslbctl.lab.httpserver import Fault as LabFault
        from akslbctl.lab.httpserver import json_response

        assert ctx.lab is not None
        base = _lb_list_url(ctx, ctx.lab.arm_url).replace("&page=2", "")
        pages = iter(range(10**9))
        lb = ctx.lab.cluster.load_balancers[0]

        def respond(request):
            n = next(pages)
            value = [{"name": f"lb{n}-{i}", "id": f"{lb['id']}-{n}-{i}"} for i in range(per_page)]
            return json_response(200, {"value": value, "nextLink": f"{base}&page={n + 1}"})

        ctx.lab.add_fault(LabFault(api="arm", route="arm.loadBalancers.list", respond=respond))

    return prepare


CATALOGUE += (
    # -- decompressed size, depth and value count of every answer (issue 13 §11) ---------------------
    Fault(
        "kube-gzip-bomb-nodes",
        "Kubernetes API answers the Node list with 1 MB of gzip that inflates to 1 GiB",
        "kube-api",
        EXPLAIN,
        3,
        "with more than 64 MiB once decompressed",
        cluster=_cluster("kbomb").build,
        prepare=_encoded("kube", "kube.nodes.list", lambda ctx: _gzip_bomb()),
        process=True,
        bound=8,
    ),
    Fault(
        "kube-deflate-bomb-slices",
        "Kubernetes API answers the EndpointSlice list with a deflate stream that inflates to 1 GiB",
        "kube-api",
        EXPLAIN,
        3,
        "once decompressed",
        cluster=_cluster("kdbomb").build,
        prepare=_encoded("kube", "kube.endpointslices.list", lambda ctx: _deflate_bomb(), "deflate"),
        process=True,
        bound=8,
    ),
    Fault(
        "kube-plain-80mb",
        "Kubernetes API answers the Service GET with 80 MiB of plain JSON",
        "kube-api",
        EXPLAIN,
        3,
        "with more than 64 MiB: not read further",
        cluster=_cluster("kbig").build,
        # 80 MiB of spaces (JSON whitespace) that the lab sends without holding them
        prepare=_answer("kube", "kube.services.get", lambda ctx: b" " * (1 << 20), repeat=80),
        process=True,
        bound=8,
    ),
    Fault(
        "kube-gzip-service",
        "Kubernetes API answers the Service GET gzip-compressed (as it does for large answers)",
        "kube-api",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_cluster("kgz").build,
        prepare=_encoded("kube", "kube.services.get", lambda ctx: _gzip(_real_service(ctx))),
    ),
    Fault(
        "kube-brotli-unasked",
        "Kubernetes API answers with Content-Encoding: br, which was not asked for",
        "kube-api",
        EXPLAIN,
        3,
        "Content-Encoding 'br', which akslbctl did not ask for",
        cluster=_cluster("kbr").build,
        prepare=_encoded("kube", "kube.services.get", lambda ctx: b"\x1b\x00\x00", "br"),
    ),
    Fault(
        "kube-gzip-garbage",
        "Kubernetes API says gzip and sends bytes that are not gzip",
        "kube-api",
        EXPLAIN,
        3,
        "does not decode as gzip",
        cluster=_cluster("kgzg").build,
        prepare=_encoded("kube", "kube.services.get", lambda ctx: b'{"kind":"Service"}'),
    ),
    Fault(
        "kube-deep-json",
        "Kubernetes API answers the Service GET with JSON nested 100,000 deep",
        "kube-api",
        EXPLAIN,
        3,
        "nested more than 100 levels deep",
        cluster=_cluster("kdeep").build,
        prepare=_answer("kube", "kube.services.get", lambda ctx: b"[" * 100_000 + b"]" * 100_000),
    ),
    Fault(
        "kube-deep-json-in-list",
        "Kubernetes API answers the Node list with an item nested 5,000 deep",
        "kube-api",
        EXPLAIN,
        3,
        "nested more than 100 levels deep",
        cluster=_cluster("kdeepl").build,
        prepare=_answer(
            "kube", "kube.nodes.list", lambda ctx: b'{"items":[{"a":' + b'{"b":' * 5000 + b"1" + b"}" * 5001 + b"]}"
        ),
    ),
    Fault(
        "kube-three-million-values",
        "Kubernetes API answers the Node list with 3,000,000 empty items (9 MB)",
        "kube-api",
        EXPLAIN,
        3,
        "more than 2,000,000 JSON values",
        cluster=_cluster("kvals").build,
        prepare=_answer("kube", "kube.nodes.list", lambda ctx: b'{"items":[' + b"{}," * 3_000_000 + b"{}]}"),
        process=True,
    ),
    Fault(
        "kube-cut-short",
        "Kubernetes API sends half the Service's body, then closes (Content-Length says more)",
        "kube-api",
        EXPLAIN,
        3,
        "with a body cut short",
        cluster=_cluster("kcut").build,
        prepare=_answer("kube", "kube.services.get", _real_service, cut=40),
    ),
    Fault(
        "kube-gzip-cut-short",
        "Kubernetes API sends a gzip body whose compressed stream stops midway",
        "kube-api",
        EXPLAIN,
        3,
        "cut short",
        cluster=_cluster("kgzcut").build,
        prepare=_encoded("kube", "kube.services.get", lambda ctx: _gzip(_real_service(ctx))[:-30]),
    ),
    Fault(
        "arm-gzip-bomb-lbs",
        "ARM answers the load balancer list with 1 MB of gzip that inflates to 1 GiB",
        "arm",
        EXPLAIN,
        3,
        "with more than 64 MiB once decompressed",
        cluster=_cluster("abomb").build,
        prepare=_encoded("arm", "arm.loadBalancers.list", lambda ctx: _gzip_bomb()),
        process=True,
        bound=8,
    ),
    Fault(
        "arm-gzip-lbs",
        "ARM answers the load balancer list gzip-compressed",
        "arm",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_cluster("agz").build,
        prepare=_encoded("arm", "arm.loadBalancers.list", lambda ctx: _gzip(_real_lb_list(ctx))),
    ),
    Fault(
        "arm-deep-json",
        "ARM answers the load balancer list with JSON nested 50,000 deep",
        "arm",
        EXPLAIN,
        3,
        "nested more than 100 levels deep",
        cluster=_cluster("adeep").build,
        prepare=_answer(
            "arm", "arm.loadBalancers.list", lambda ctx: b'{"value":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
        ),
    ),
    Fault(
        "arm-zstd-unasked",
        "ARM answers with Content-Encoding: zstd, which was not asked for",
        "arm",
        EXPLAIN,
        3,
        "did not ask for",
        cluster=_cluster("azstd").build,
        prepare=_encoded("arm", "arm.loadBalancers.list", lambda ctx: b"(\xb5/\xfd", "zstd"),
    ),
    Fault(
        "arm-cut-short",
        "ARM sends part of the load balancer list, then closes (Content-Length says more)",
        "arm",
        EXPLAIN,
        3,
        "with a body cut short",
        cluster=_cluster("acut").build,
        prepare=_answer("arm", "arm.loadBalancers.list", _real_lb_list, cut=100),
    ),
    # -- lists that never end (issue 13 §12) ----------------------------------------------------------
    Fault(
        "kube-endless-continue-empty",
        "Kubernetes API answers every Node list page empty, with a new continue token",
        "kube-api",
        EXPLAIN,
        3,
        "cut at more than 500 pages",
        cluster=_cluster("kcont").build,
        prepare=_endless_continue(0),
        process=True,
        bound=15,
    ),
    Fault(
        "kube-endless-continue-full",
        "Kubernetes API answers every Node list page with 500 Nodes and a new continue token",
        "kube-api",
        EXPLAIN,
        3,
        "cut at more than 50,000 items",
        cluster=_cluster("kcontf").build,
        prepare=_endless_continue(500),
        process=True,
        bound=15,
    ),
    Fault(
        "arm-endless-next-links",
        "ARM's load balancer list hands out a new nextLink (same origin) with every page",
        "arm",
        EXPLAIN,
        3,
        "cut at more than 500 pages",
        cluster=_cluster("anext").build,
        prepare=_endless_next_links(0),
        process=True,
        bound=20,
    ),
    Fault(
        "arm-endless-next-links-full",
        "ARM's load balancer list hands out 500 (bare) load balancers and a new nextLink with every page",
        "arm",
        EXPLAIN,
        3,
        "cut at more than 50,000 items",
        cluster=_cluster("anextf").build,
        prepare=_endless_next_links(500),
        process=True,
        bound=20,
    ),
)


# -- kubeconfig files that block or grow (issue 13 §14) ------------------------------------------------


def _kubeconfig_at(kind: str, *, listed: bool = False) -> Callable[[Context], None]:
    """KUBECONFIG names ``kind``: "fifo" (nobody writes it), "zero" (/dev/zero), "huge" (100 MiB,
    sparse) or "folder"; ``listed``: after the lab's own kubeconfig, in a KUBECONFIG list."""

    def prepare(ctx: Context) -> None:
        target = ctx.path("kubeconfig-" + kind)
        if kind == "fifo":
            os.mkfifo(target)
        elif kind == "zero":
            target = Path("/dev/zero")
        elif kind == "huge":
            with open(target, "wb") as f:
                f.truncate(100 << 20)
        elif kind == "folder":
            target.mkdir()
        own = ctx.env.get("KUBECONFIG")
        ctx.env["KUBECONFIG"] = f"{own}{os.pathsep}{target}" if listed and own else str(target)

    return prepare


def _no_candidates_quickly(ctx: Context, out: Outcome) -> str | None:
    """Completion answered with its directive line (no traceback, nothing on stderr)."""
    if not out.stdout.strip().splitlines() or not out.stdout.strip().splitlines()[-1].startswith(":"):
        return f"no completion directive: {out.stdout[-200:]!r}"
    return None


CATALOGUE += (
    Fault(
        "complete-kubeconfig-fifo",
        "Completing --context while KUBECONFIG is a FIFO nobody writes",
        "env",
        ("__complete", "explain", "--context", ""),
        0,
        prepare=_kubeconfig_at("fifo"),
        process=True,
        bound=3,
        check=_no_candidates_quickly,
    ),
    Fault(
        "complete-kubeconfig-dev-zero",
        "Completing --context while KUBECONFIG is /dev/zero",
        "env",
        ("__complete", "explain", "--context", ""),
        0,
        prepare=_kubeconfig_at("zero"),
        process=True,
        bound=3,
        check=_no_candidates_quickly,
    ),
    Fault(
        "complete-kubeconfig-huge",
        "Completing --context while KUBECONFIG is a 100 MiB file",
        "env",
        ("__complete", "explain", "--context", ""),
        0,
        prepare=_kubeconfig_at("huge"),
        process=True,
        bound=3,
        check=_no_candidates_quickly,
    ),
    Fault(
        "complete-services-kubeconfig-fifo",
        "Completing a Service while the KUBECONFIG list holds a FIFO after the lab's kubeconfig",
        "env",
        ("__complete", "explain", ""),
        0,
        cluster=_cluster("ckfifo").build,
        prepare=_kubeconfig_at("fifo", listed=True),
        process=True,
        bound=4,
        check=_no_candidates_quickly,
    ),
    Fault(
        "kubeconfig-fifo",
        "KUBECONFIG is a FIFO nobody writes",
        "env",
        EXPLAIN,
        2,
        "is a FIFO (named pipe), not a file",
        prepare=_kubeconfig_at("fifo"),
        process=True,
        bound=4,
    ),
    Fault(
        "kubeconfig-dev-zero",
        "--kubeconfig /dev/zero",
        "argument",
        (*EXPLAIN, "--kubeconfig", "/dev/zero"),
        2,
        "kubeconfig /dev/zero is a device, not a file",
        process=True,
        bound=4,
    ),
    Fault(
        "kubeconfig-huge",
        "KUBECONFIG is a 100 MiB file",
        "env",
        EXPLAIN,
        2,
        "akslbctl reads kubeconfig files of at most 4 MiB",
        prepare=_kubeconfig_at("huge"),
        process=True,
        bound=4,
    ),
    Fault(
        "kubeconfig-list-huge",
        "The KUBECONFIG list holds the lab's kubeconfig and a 100 MiB file",
        "env",
        EXPLAIN,
        2,
        "is 100 MiB",
        cluster=_cluster("kclhuge").build,
        prepare=_kubeconfig_at("huge", listed=True),
    ),
    Fault(
        "kubeconfig-folder",
        "--kubeconfig names a folder",
        "argument",
        (*EXPLAIN, "--kubeconfig", "{tmp}"),
        2,
        "is a folder, not a file",
    ),
)


# -- --svg and capture -f bounded by --deadline (issue 13 §6) ------------------------------------------


def _stalled_fifo(name: str) -> Callable[[Context], None]:
    """A FIFO whose reader opened it, shrank its buffer to one page and never reads."""

    def prepare(ctx: Context) -> None:
        import fcntl

        path = ctx.path(name)
        os.mkfifo(path)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 4096)
        ctx.cleanups.append(lambda: os.close(fd))

    return prepare


CATALOGUE += (
    Fault(
        "svg-fifo-stalled-reader",
        "--svg onto a FIFO whose reader stops reading: ends at --deadline, never blocking past it",
        "output",
        ("explain", "svc/web", "--svg", "{tmp}/pipe", "--deadline", "5", *NI),
        3,
        "within the 5 s deadline",
        cluster=_cluster("svgstall").build,
        prepare=_stalled_fifo("pipe"),
        process=True,
        bound=7,
        check=_still("pipe", "fifo"),
    ),
    Fault(
        "capture-fifo-stalled-reader",
        "capture -f onto a FIFO whose reader stops reading: ends at --deadline",
        "output",
        ("capture", "svc/web", "-f", "{tmp}/pipe", "--deadline", "5", *NI),
        3,
        "within the 5 s deadline",
        cluster=_cluster("capstall").build,
        prepare=_stalled_fifo("pipe"),
        process=True,
        bound=7,
        check=_still("pipe", "fifo"),
    ),
)


# -- each failure says what it is (issue 13 §15) -----------------------------------------------------


def _lab_kubeconfig(*, token: str | None = None, server: str | None = None, **cluster: Any):
    """The lab's kubeconfig with ``token`` (default: the lab's), ``server`` and more cluster fields."""

    def prepare(ctx: Context) -> None:
        assert ctx.lab is not None and ctx.lab.ca_file is not None
        fields = {"certificate-authority": str(ctx.lab.ca_file), **cluster}
        if fields.get("insecure-skip-tls-verify"):
            fields.pop("certificate-authority")
        user = {"token": ctx.lab.kube_token if token is None else token.replace("{lab}", ctx.lab.kube_token)}
        path = _kubeconfig(ctx, server or ctx.lab.kube_url, user=user)
        import yaml

        doc = yaml.safe_load(path.read_text())
        doc["clusters"][0]["cluster"].update(fields)
        path.write_text(yaml.safe_dump(doc))

    return prepare


def _token_file(ctx: Context) -> None:
    """The user's token in a tokenFile that ends in a newline (as echo writes one)."""
    assert ctx.lab is not None and ctx.lab.ca_file is not None
    token = ctx.path("token")
    token.write_text(ctx.lab.kube_token + "\n")
    _kubeconfig(ctx, ctx.lab.kube_url, ca=str(ctx.lab.ca_file), user={"tokenFile": str(token)})


def _kube_429(retry_after: Callable[[], str], times: int | None = 1) -> Callable[[Context], None]:
    """The Node list answers 429 (API Priority and Fairness) with ``Retry-After: retry_after()``."""

    def prepare(ctx: Context) -> None:
        from akslbctl.lab.httpserver import Fault as LabFault
        from akslbctl.lab.httpserver import json_response

        assert ctx.lab is not None
        status = {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": "Too many requests, please try again later.",
            "reason": "TooManyRequests",
            "code": 429,
        }

        def respond(request):
            return json_response(429, status, (("Retry-After", retry_after()),))

        ctx.lab.add_fault(LabFault(api="kube", route="kube.nodes.list", respond=respond, times=times))

    return prepare


def _arm_429(retry_after: Callable[[], str], times: int | None = 1) -> Callable[[Context], None]:
    def prepare(ctx: Context) -> None:
        from akslbctl.lab.armapi import arm_error_body
        from akslbctl.lab.httpserver import Fault as LabFault
        from akslbctl.lab.httpserver import Response

        assert ctx.lab is not None
        body = arm_error_body("SubscriptionRequestsThrottled", "Number of 'read' requests exceeded.")

        def respond(request):
            headers = (("Content-Type", "application/json"), ("Retry-After", retry_after()))
            return Response(429, body, headers)

        ctx.lab.add_fault(LabFault(api="arm", route="arm.loadBalancers.list", respond=respond, times=times))

    return prepare


def _http_date(seconds: float) -> Callable[[], str]:
    from email.utils import formatdate

    return lambda: formatdate(time.time() + seconds, usegmt=True)


def _claims_challenge(claims: str) -> Callable[[Context], None]:
    def prepare(ctx: Context) -> None:
        from akslbctl.lab.httpserver import Fault as LabFault

        assert ctx.lab is not None
        challenge = (
            'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
            f'error="insufficient_claims", claims="{claims}"'
        )
        headers = (("WWW-Authenticate", challenge), ("Content-Type", "application/json"))
        body = b'{"error":{"code":"InvalidAuthenticationToken","message":"claims required"}}'
        ctx.lab.add_fault(LabFault(api="arm", route="arm.loadBalancers.list", status=401, body=body, headers=headers))

    return prepare


def _expired_tls_server(ctx: Context) -> None:
    """A TLS server on 127.0.0.3 whose certificate (signed by the CA the kubeconfig trusts) expired."""
    import socket
    import ssl

    from akslbctl.lab.httpserver import _generate_tls

    ca, cert, key = _generate_tls(expired=True)
    ctx.path("ca.pem").write_bytes(ca)
    ctx.path("cert.pem").write_bytes(cert)
    ctx.path("key.pem").write_bytes(key)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(str(ctx.path("cert.pem")), str(ctx.path("key.pem")))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with contextlib.suppress(OSError, ssl.SSLError):
                conn.settimeout(2)
                tls.wrap_socket(conn, server_side=True).close()
            with contextlib.suppress(OSError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ctx.cleanups.append(lambda: (stop.set(), sock.close()))
    # (not the default token: its fragment "kubeconfig" is masked as part of a secret)
    user = {"token": "tls-3c8e1f0a9b7d"}
    _kubeconfig(ctx, f"https://127.0.0.1:{sock.getsockname()[1]}", ca=str(ctx.path("ca.pem")), user=user)


def _lacks(text: str) -> Callable[[Context, Outcome], str | None]:
    return lambda ctx, out: f"stderr says {text!r}: {out.stderr.strip()[:160]!r}" if text in out.stderr else None


NETWORK = "network/VPN"

CATALOGUE += (
    Fault(
        "kube-429-apf-once",
        "Kubernetes API sheds the Node list once with 429 and Retry-After: 1 (API Priority and Fairness)",
        "kube-api",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_cluster("k429").build,
        prepare=_kube_429(lambda: "1"),
    ),
    Fault(
        "kube-429-apf-hour",
        "Kubernetes API sheds the Node list with 429 and Retry-After: 3600",
        "kube-api",
        EXPLAIN,
        3,
        "the server asks to wait 3600 s",
        cluster=_cluster("k429h").build,
        prepare=_kube_429(lambda: "3600", times=None),
        check=_lacks(NETWORK),
    ),
    Fault(
        "kube-429-http-date",
        "Kubernetes API sheds the Node list once, Retry-After as an HTTP-date 1 s ahead",
        "kube-api",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_cluster("k429d").build,
        prepare=_kube_429(_http_date(1)),
    ),
    Fault(
        "kube-503-retry-after-once",
        "Kubernetes API answers the Node list 503 with Retry-After: 1 once (a server starting up)",
        "kube-api",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_kube_fault(
            "k503ra", "kube.nodes.list", status=503, times=1, headers=(("Retry-After", "1"),), body=b"{}"
        ),
    ),
    Fault(
        "kube-429-every-time",
        "Kubernetes API sheds every Node list with 429 and Retry-After: 1",
        "kube-api",
        EXPLAIN,
        3,
        "429 Too Many Requests 4 times",
        cluster=_cluster("k429e").build,
        prepare=_kube_429(lambda: "1", times=None),
        bound=10,
    ),
    Fault(
        "arm-429-http-date",
        "ARM throttles the load balancer list once, Retry-After as an HTTP-date 1 s ahead",
        "arm",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_cluster("a429d").build,
        prepare=_arm_429(_http_date(1)),
    ),
    Fault(
        "arm-429-http-date-far",
        "ARM throttles the load balancer list, Retry-After as an HTTP-date two hours ahead",
        "arm",
        EXPLAIN,
        3,
        "ARM asks to wait 7",  # 7200 s, less the time the request took
        cluster=_cluster("a429f").build,
        prepare=_arm_429(_http_date(7200), times=None),
    ),
    Fault(
        "arm-429-retry-after-garbage",
        "ARM throttles once with a Retry-After that is neither seconds nor a date",
        "arm",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_cluster("a429g").build,
        prepare=_arm_429(lambda: "soon, maybe"),
    ),
    Fault(
        "arm-claims-not-base64",
        "ARM answers 401 with a claims challenge that is not base64",
        "arm",
        EXPLAIN,
        3,
        "claims challenge that is not valid base64",
        cluster=_cluster("aclaims").build,
        prepare=_claims_challenge("!!not*base64!!"),
    ),
    Fault(
        "kube-token-file-newline",
        "The kubeconfig's tokenFile ends in a newline",
        "env",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_cluster("ktokf").build,
        prepare=_token_file,
    ),
    Fault(
        "kube-token-trailing-cr",
        "The kubeconfig's token ends in a CR (a file saved on Windows)",
        "env",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_cluster("ktokcr").build,
        prepare=_lab_kubeconfig(token="{lab}\r"),
    ),
    Fault(
        "kube-token-control-char",
        "The kubeconfig's token holds a control character inside it",
        "env",
        EXPLAIN,
        2,
        "holds a control character",
        cluster=_cluster("ktokcc").build,
        prepare=_lab_kubeconfig(token="abc\x01def"),
    ),
    Fault(
        "kube-insecure-skip-tls-verify",
        "The kubeconfig sets insecure-skip-tls-verify: one warning line, not one per request",
        "env",
        EXPLAIN,
        0,
        verdict="up/probe-ok",
        cluster=_cluster("kinsec").build,
        prepare=_lab_kubeconfig(**{"insecure-skip-tls-verify": True}),
        warns="sets insecure-skip-tls-verify",
    ),
    Fault(
        "kube-tls-wrong-name",
        "The API server's certificate is for another name (tls-server-name: wrong.example)",
        "env",
        EXPLAIN,
        3,
        "its certificate is for another name (wrong name)",
        cluster=_cluster("kname").build,
        prepare=_lab_kubeconfig(**{"tls-server-name": "wrong.example"}),
        check=_lacks(NETWORK),
    ),
    Fault(
        "kube-tls-expired",
        "The API server's certificate has expired",
        "env",
        EXPLAIN,
        3,
        "its certificate has expired",
        prepare=_expired_tls_server,
        check=_lacks(NETWORK),
    ),
    Fault(
        "kube-port-arabic-digits",
        "The kubeconfig's server port is written in Arabic-Indic digits",
        "env",
        EXPLAIN,
        2,
        "has a port that is not a decimal number",
        cluster=_cluster("kport").build,
        prepare=_lab_kubeconfig(server="https://127.0.0.1:\u0666\u0664\u0664\u0663"),
    ),
    Fault(
        "arm-endpoint-fullwidth-port",
        "AKSLBCTL_ARM_ENDPOINT's port is written in full-width digits",
        "env",
        EXPLAIN,
        2,
        "has a port that is not a decimal number",
        cluster=_cluster("aport").build,
        prepare=_env(AKSLBCTL_ARM_ENDPOINT="http://127.0.0.1:\uff18\uff10"),
    ),
    Fault(
        "kube-server-not-http",
        "The kubeconfig's server is an ftp:// URL",
        "env",
        EXPLAIN,
        2,
        "is not an http(s) URL",
        cluster=_cluster("kftp").build,
        prepare=_lab_kubeconfig(server="ftp://127.0.0.1:21"),
    ),
    Fault(
        "kube-server-broken-ipv6",
        "The kubeconfig's server is an IPv6 literal without its closing bracket",
        "env",
        EXPLAIN,
        2,
        "Invalid IPv6 URL",
        cluster=_cluster("kv6").build,
        prepare=_lab_kubeconfig(server="https://[::1:6443"),
    ),
    Fault(
        "arm-endpoint-broken-ipv6",
        "AKSLBCTL_ARM_ENDPOINT is an IPv6 literal without its closing bracket",
        "env",
        EXPLAIN,
        2,
        "is not a usable URL",
        cluster=_cluster("av6").build,
        prepare=_env(AKSLBCTL_ARM_ENDPOINT="http://[::1"),
    ),
    Fault(
        "kube-closed-port-says-network",
        "kubeconfig points at a closed port: this one does say to check the network/VPN",
        "env",
        EXPLAIN,
        3,
        NETWORK,
        prepare=_closed_port_kubeconfig,
    ),
    Fault(
        "columns-abc",
        "COLUMNS=abc",
        "env",
        TABLE,
        0,
        cluster=_cluster("colabc").build,
        prepare=_env(COLUMNS="abc"),
    ),
    Fault(
        "columns-negative",
        "COLUMNS=-40",
        "env",
        TABLE,
        0,
        cluster=_cluster("colneg").build,
        prepare=_env(COLUMNS="-40"),
    ),
    Fault(
        "columns-arabic-digit",
        "COLUMNS=\u0663 (a digit, but not a decimal ASCII one)",
        "env",
        TABLE,
        0,
        cluster=_cluster("colar").build,
        prepare=_env(COLUMNS="\u0663"),
    ),
    Fault(
        "lab-run-typo",
        "lab run with a misspelt scenario name",
        "argument",
        ("lab", "run", "clustr-tcp"),
        2,
        "did you mean cluster-tcp?",
    ),
    Fault(
        "lab-run-bad-parameter",
        "lab run with a parameter for a scenario that takes none",
        "argument",
        ("lab", "run", "cluster-tcp:7"),
        2,
        "takes no parameter",
    ),
)


def _kubeconfig_referencing(field: str, kind: str) -> Callable[[Context], None]:
    """The lab's kubeconfig whose cluster or user names, in ``field``, a FIFO or /dev/zero."""

    def prepare(ctx: Context) -> None:
        assert ctx.lab is not None and ctx.lab.ca_file is not None
        target = "/dev/zero"
        if kind == "fifo":
            os.mkfifo(ctx.path("ref-fifo"))
            target = str(ctx.path("ref-fifo"))
        user: dict[str, Any] = {"token": ctx.lab.kube_token}
        ca = str(ctx.lab.ca_file)
        if field == "tokenFile":
            user = {"tokenFile": target}
        elif field == "certificate-authority":
            ca = target
        else:
            user = {"client-certificate": target, "client-key": target}
        _kubeconfig(ctx, ctx.lab.kube_url, ca=ca, user=user)

    return prepare


CATALOGUE += (
    Fault(
        "kubeconfig-token-file-dev-zero",
        "The kubeconfig's user has tokenFile: /dev/zero",
        "env",
        EXPLAIN,
        2,
        "the tokenFile of kubeconfig user 'u', /dev/zero, is a device, not a file",
        cluster=_cluster("ktfzero").build,
        prepare=_kubeconfig_referencing("tokenFile", "zero"),
        process=True,
        bound=4,
    ),
    Fault(
        "kubeconfig-ca-fifo",
        "The kubeconfig's certificate-authority is a FIFO nobody writes",
        "env",
        EXPLAIN,
        2,
        "is a FIFO (named pipe), not a file",
        cluster=_cluster("kcafifo").build,
        prepare=_kubeconfig_referencing("certificate-authority", "fifo"),
        process=True,
        bound=4,
    ),
    Fault(
        "complete-services-token-file-fifo",
        "Completing a Service while the kubeconfig's tokenFile is a FIFO nobody writes",
        "env",
        ("__complete", "explain", ""),
        0,
        cluster=_cluster("ctffifo").build,
        prepare=_kubeconfig_referencing("tokenFile", "fifo"),
        process=True,
        bound=4,
        check=_no_candidates_quickly,
    ),
    Fault(
        "kube-401-deep-json-body",
        "Kubernetes API answers 403 with a Status body nested 100,000 deep",
        "kube-api",
        EXPLAIN,
        3,
        "refused GET",
        cluster=_kube_fault("k403deep", "kube.nodes.list", status=403, body=b"[" * 100_000 + b"]" * 100_000),
    ),
    Fault(
        "arm-500-gzip-bomb-body",
        "ARM answers 500 with an error body of gzip that inflates to 1 GiB",
        "arm",
        EXPLAIN,
        3,
        "once decompressed",
        cluster=_cluster("a500bomb").build,
        prepare=_encoded("arm", "arm.loadBalancers.list", lambda ctx: _gzip_bomb(), status=500),
        process=True,
        bound=10,
    ),
    Fault(
        "arm-deep-json-text-plain",
        "ARM answers with deep JSON labelled text/plain",
        "arm",
        EXPLAIN,
        3,
        "nested more than 100 levels deep",
        cluster=_cluster("adeept").build,
        prepare=_answer(
            "arm", "arm.loadBalancers.list", lambda ctx: b"[" * 50_000 + b"]" * 50_000, content_type="text/plain"
        ),
    ),
    Fault(
        "rule-health-gzip-bomb",
        "ARM's rule-health operation answers with a gzip bomb: Azure's view is a note, the diagnosis stands",
        "rule-health",
        ("explain", "svc/web", "-o", "json"),
        0,
        verdict="up/probe-ok",
        cluster=_cluster("rhbomb").build,
        prepare=_encoded("arm", "arm.rule-health*", lambda ctx: _gzip_bomb(), status=200),
        process=True,
        bound=10,
        check=_json_note("once decompressed"),
    ),
)


# The classes of issue 13 this round covers, by entry id: benchmarks/fault_figures.py reports each.
CLASSES: dict[str, tuple[str, ...]] = {
    "§6 --svg / capture -f bounded by --deadline": (
        "svg-fifo-no-reader",
        "svg-planted-link",
        "svg-fifo-stalled-reader",
        "capture-fifo-stalled-reader",
    ),
    "§11 answers bounded (size once inflated, depth, values, cut short)": (
        "kube-gzip-bomb-nodes",
        "kube-deflate-bomb-slices",
        "kube-plain-80mb",
        "kube-gzip-service",
        "kube-brotli-unasked",
        "kube-gzip-garbage",
        "kube-deep-json",
        "kube-deep-json-in-list",
        "kube-three-million-values",
        "kube-cut-short",
        "kube-gzip-cut-short",
        "kube-401-deep-json-body",
        "arm-gzip-bomb-lbs",
        "arm-gzip-lbs",
        "arm-deep-json",
        "arm-deep-json-text-plain",
        "arm-zstd-unasked",
        "arm-cut-short",
        "arm-500-gzip-bomb-body",
        "rule-health-gzip-bomb",
    ),
    "§12 endless lists cut": (
        "kube-endless-pages",
        "arm-endless-pages",
        "kube-endless-continue-empty",
        "kube-endless-continue-full",
        "arm-endless-next-links",
        "arm-endless-next-links-full",
    ),
    "§14 kubeconfig files that block or grow": (
        "complete-kubeconfig-fifo",
        "complete-kubeconfig-dev-zero",
        "complete-kubeconfig-huge",
        "complete-services-kubeconfig-fifo",
        "complete-services-token-file-fifo",
        "kubeconfig-fifo",
        "kubeconfig-dev-zero",
        "kubeconfig-huge",
        "kubeconfig-list-huge",
        "kubeconfig-token-file-dev-zero",
        "kubeconfig-ca-fifo",
    ),
    "§15 each failure says what it is": (
        "kube-302-foreign",
        "kube-307-nodes",
        "arm-302-foreign",
        "kube-429-apf-once",
        "kube-429-apf-hour",
        "kube-429-http-date",
        "kube-429-every-time",
        "kube-503-retry-after-once",
        "arm-429-http-date",
        "arm-429-http-date-far",
        "arm-429-retry-after-garbage",
        "kube-token-file-newline",
        "kube-token-trailing-cr",
        "kube-token-control-char",
        "kube-cut-short",
        "kube-deep-json",
        "kube-port-arabic-digits",
        "arm-endpoint-fullwidth-port",
        "kube-server-not-http",
        "kube-server-broken-ipv6",
        "arm-endpoint-broken-ipv6",
        "arm-claims-not-base64",
        "kubeconfig-folder",
        "kube-insecure-skip-tls-verify",
        "kube-wrong-ca",
        "kube-tls-expired",
        "kube-tls-wrong-name",
        "kube-closed-port-says-network",
        "arm-reset",
        "arm-garbage",
        "columns-abc",
        "columns-negative",
        "columns-arabic-digit",
        "lab-run-typo",
        "lab-run-bad-parameter",
    ),
}


# ---------------------------------------------------------------------------------------------------
# Running one entry


def base_env(tmp: Path) -> dict[str, str]:
    """The process environment without anything of the user's that could steer a run."""
    env = {k: v for k, v in os.environ.items() if k not in _ISOLATE}
    env["HOME"] = str(tmp / "home")
    env["XDG_CACHE_HOME"] = str(tmp / "cache")
    env["COLUMNS"] = "120"
    env["AZURE_CLIENT_SECRET"] = SECRET  # present in every run: it must never be echoed
    return env


@contextlib.contextmanager
def context(fault: Fault, tmp: Path) -> Iterator[Context]:
    """Start the entry's lab (if any), build its environment and files; stop the lab afterwards."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "home").mkdir(exist_ok=True)
    ctx = Context(tmp=tmp, env=base_env(tmp), secrets=[SECRET])
    lab = Lab(fault.cluster()) if fault.cluster is not None else None
    try:
        if lab is not None:
            lab.start()
            ctx.lab = lab
            ctx.env.update(lab.env)
            ctx.secrets += [lab.kube_token, lab.arm_token]
        if fault.prepare is not None:
            fault.prepare(ctx)
        ctx.inputs = set(tmp.rglob("*"))
        yield ctx
    finally:
        for cleanup in reversed(ctx.cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        if lab is not None:
            lab.stop()
            lab.cluster.release()


def argv_of(fault: Fault, ctx: Context) -> list[str]:
    return [a.replace("{tmp}", str(ctx.tmp)) for a in fault.argv]


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_in_process(fault: Fault, ctx: Context) -> Outcome:
    """Through the real CLI entry (``run_cli``) in this process."""
    from support import cli

    with _environment(ctx.env):
        started = time.monotonic()
        result = cli(*argv_of(fault, ctx))
        seconds = time.monotonic() - started
    return Outcome(result.exit_code, result.stdout, result.stderr, seconds)


class _Child:
    """A subprocess reaped exactly once, by ``os.wait4`` (which alone reports its peak RSS).

    Nothing else may wait on it: ``Popen.poll``/``wait`` reap it too (a later ``wait4`` then raises
    ``ChildProcessError``), and ``Popen.kill``/``send_signal`` poll first, or signal a pid that is no
    longer the child's once it has been reaped. So every wait and every signal goes through here, under
    one lock: a signal is sent only while the child is unreaped (running, or a zombie whose pid cannot be
    reused), and the one reap hands the exit status to the ``Popen`` object.
    """

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.usage: Any = None  # the child's rusage, once reaped
        self._lock = threading.Lock()

    def reaped(self) -> bool:
        """Reap the child if it has exited (never blocks); whether it has been reaped."""
        with self._lock:
            if self.usage is None:
                pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
                if pid == 0:
                    return False
                self.usage = usage
                self.proc.returncode = os.waitstatus_to_exitcode(status)
            return True

    def wait(self) -> None:
        while not self.reaped():
            time.sleep(0.005)

    def send_signal(self, sig: int) -> None:
        with self._lock:
            if self.usage is None:
                os.kill(self.proc.pid, sig)

    def exited(self) -> bool:
        """Whether the child has exited, without reaping it (``waitid`` with ``WNOWAIT``)."""
        with self._lock:
            if self.usage is not None:
                return True
            return os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def run_process(fault: Fault, ctx: Context) -> Outcome:
    """``python -m akslbctl …`` with the entry's environment: wall time and peak RSS of that process."""
    out_path, err_path = ctx.path("stdout"), ctx.path("stderr")
    ctx.stdout_path = out_path
    argv = [sys.executable, "-m", "akslbctl", *(os.fsencode(a) for a in argv_of(fault, ctx))]
    read_end = None
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        stdout: Any = out
        if fault.stdout_closed:
            read_end, write_end = os.pipe()
            stdout = write_end
        full = open(os.devnull if fault.streams != "full" else "/dev/full", "wb")  # noqa: SIM115
        if fault.streams == "full":
            stdout = full
        closing = {"no-fd1": 1, "no-fd2": 2}.get(fault.streams or "")
        started = time.monotonic()
        child = _Child(
            subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=err,
                env=ctx.env,
                preexec_fn=(lambda: os.close(closing)) if closing else None,  # noqa: PLW1509
            )
        )
        full.close()
        if fault.stdout_closed:
            os.close(stdout)
            os.close(read_end)  # nobody will ever read: the first write meets EPIPE
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            child.send_signal(signal.SIGKILL)

        killer = threading.Timer(hang_limit(fault.bound), kill)
        killer.start()
        try:
            if fault.interrupt is not None:
                _interrupt_when_ready(fault, ctx, child, started + hang_limit(fault.bound))
            child.wait()
        finally:
            killer.cancel()
            if not child.reaped():  # only on an error above: leave no process behind
                child.send_signal(signal.SIGKILL)
                child.wait()
        seconds = time.monotonic() - started
    returncode = child.proc.returncode
    code = returncode if returncode >= 0 else 128 - returncode
    return Outcome(
        code,
        out_path.read_bytes().decode("utf-8", "replace"),
        err_path.read_bytes().decode("utf-8", "replace"),
        seconds,
        child.usage.ru_maxrss,
        killed.is_set(),
    )


def _interrupt_when_ready(fault: Fault, ctx: Context, child: _Child, give_up: float) -> None:
    """SIGINT once the entry's moment has come (never before: however long a loaded machine takes to
    get there, up to the hang limit). Notes in ``ctx.answered_first`` a run that had already written
    its answer or ended by then — a run the signal could not interrupt any more."""
    assert fault.interrupt is not None
    while not fault.interrupt(ctx):
        if child.reaped() or time.monotonic() > give_up:
            ctx.answered_first = child.reaped()
            return
        time.sleep(0.02)
    if fault.settle:
        time.sleep(fault.settle)  # well inside the blocking call
    out = ctx.stdout_path
    ctx.answered_first = child.exited() or (out is not None and out.exists() and out.stat().st_size > 0)
    child.send_signal(fault.sig)


def run(fault: Fault, tmp: Path, *, process: bool | None = None) -> tuple[Context, Outcome]:
    """Run one entry (as a subprocess when ``process``, default: the entry's own choice)."""
    needs_process = fault.interrupt is not None or fault.stdout_closed
    use_process = needs_process or (fault.process if process is None else process)
    with context(fault, tmp) as ctx:
        outcome = run_process(fault, ctx) if use_process else run_in_process(fault, ctx)
        return ctx, outcome


# ---------------------------------------------------------------------------------------------------
# Judging


def node_verdict(stdout: str, node: str = NODE1) -> str | None:
    """ "verdict/reason" of ``node`` on the first rule of an ``explain -o json`` document."""
    try:
        doc = json.loads(stdout)
        row = next(n for n in doc["rules"][0]["nodes"] if n["name"] == node)
    except (ValueError, KeyError, IndexError, StopIteration, TypeError):
        return None
    return f"{row['verdict']}/{row['reason']}"


def written_files(ctx: Context) -> list[Path]:
    """The files a run wrote (its captured stdout and stderr aside)."""
    skip = {ctx.path("stdout"), ctx.path("stderr")}
    return [p for p in ctx.tmp.rglob("*") if p.is_file() and p not in ctx.inputs and p not in skip]


def expected_exits(fault: Fault, ctx: Context) -> tuple[int, ...]:
    """The exit codes that count as surviving this run: the entry's, and for an interrupt entry whose
    run had answered before the signal was sent, its ``answered_exit`` as well (the signal may still
    have landed while it exited, so both)."""
    if fault.answered_exit is not None and ctx.answered_first:
        return (fault.exit, fault.answered_exit)
    return (fault.exit,)


def over_bound(fault: Fault, out: Outcome) -> bool:
    """Whether a run took longer than its entry's nominal bound (a figure, not a failure)."""
    return out.seconds > fault.bound


def judge(fault: Fault, ctx: Context, out: Outcome) -> list[str]:
    """What went wrong: an empty list for a fault survived as documented.

    Wall time is not judged, only a hang: a run that was still going at its hang limit."""
    problems = []
    if out.killed or out.seconds > hang_limit(fault.bound):
        problems.append(f"a hang: still running after {hang_limit(fault.bound):g} s (nominal bound {fault.bound:g} s)")
    exits = expected_exits(fault, ctx)
    if out.exit not in exits and not out.killed:
        problems.append(f"exit {out.exit}, expected {' or '.join(map(str, exits))}")
    text = out.stdout + out.stderr
    if "Traceback" in text or "Exception ignored" in text:
        problems.append("a traceback")
    lines = out.stderr.splitlines()
    if fault.exit in (2, 3):
        if len(lines) != 1 or not lines[0].startswith("error: "):
            problems.append(f"{len(lines)} stderr lines, expected one 'error: …' line")
        if "internal error" in out.stderr:
            problems.append("an internal error")
        says = (fault.says,) if isinstance(fault.says, str) else fault.says or ()
        if says and not any(s in out.stderr for s in says):
            problems.append(f"stderr does not say {' or '.join(map(repr, says))}")
    elif fault.exit in (0, 1):
        rest = [ln for ln in out.stderr.splitlines() if ln.strip() and not ln.startswith("saved the picture as ")]
        if fault.warns is not None:
            warned = [ln for ln in rest if ln.startswith("warning: ")]
            if len(warned) != 1 or fault.warns not in warned[0]:
                problems.append(f"expected one warning line saying {fault.warns!r}: {warned[:3]!r}")
            rest = [ln for ln in rest if not ln.startswith("warning: ")]
        if rest:  # (--svg says where it saved the picture)
            problems.append(f"unexpected stderr: {rest[0][:120]!r}")
    if fault.verdict is not None:
        got = node_verdict(out.stdout)
        if got != fault.verdict:
            problems.append(f"{NODE1}: {got}, expected {fault.verdict}")
    leaked = [s for s in ctx.secrets if s and s in text]
    for path in written_files(ctx):
        data = path.read_bytes()
        leaked += [s for s in ctx.secrets if s and s.encode() in data]
    if leaked:
        problems.append(f"{len(leaked)} secret(s) in the output or the files written")
    if out.peak_rss_kb is not None and out.peak_rss_kb > MAX_RSS_MB * 1024:
        problems.append(f"peak RSS {out.peak_rss_kb // 1024} MB, bound {MAX_RSS_MB} MB")
    if fault.check is not None:
        extra = fault.check(ctx, out)
        if extra:
            problems.append(extra)
    return problems
