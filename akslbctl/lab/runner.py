"""Run a lab: the Kubernetes API, ARM and every node's listeners on one loop in a background thread.

    with Lab("cluster-tcp") as lab:
        subprocess.run(["akslbctl", "explain", "svc/web"], env={**os.environ, **lab.env})

``Lab.env`` points akslbctl at the lab the ordinary way — a kubeconfig, the ARM endpoint and a
bearer token — so nothing in akslbctl knows it is talking to a lab. ``serve_forever`` is what
``akslbctl lab up`` runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from akslbctl.lab.behaviours import Behaviour, Closed
from akslbctl.lab.cluster import LabCluster
from akslbctl.lab.httpserver import Fault, FaultTable, HttpServer, RequestRecord, TlsFiles, write_tls_files

START_TIMEOUT = 60.0


class Lab:
    """A running lab for one cluster or scenario name (``"cluster-tcp"``, ``"large:1000"``).

    ``listeners=False`` serves only the two APIs (no node sockets); ``kube_tls`` serves the
    Kubernetes API over HTTPS with a throwaway CA named in the kubeconfig (default on, as a real
    cluster); ``arm_tls`` does the same for ARM and adds ``REQUESTS_CA_BUNDLE`` to :attr:`env`.
    """

    def __init__(
        self,
        scenario: str | LabCluster,
        *,
        listeners: bool = True,
        kube_tls: bool = True,
        arm_tls: bool = False,
        workdir: str | os.PathLike[str] | None = None,
        arm_page_size: int | None = None,
    ) -> None:
        if isinstance(scenario, str):
            from akslbctl.lab.scenarios import build

            scenario = build(scenario)
        self.cluster: LabCluster = scenario
        self.kube_token = secrets.token_urlsafe(24)
        self.arm_token = secrets.token_urlsafe(24)
        self._with_listeners = listeners
        self._kube_tls = kube_tls
        self._arm_tls = arm_tls
        self._arm_page_size = arm_page_size
        self._workdir_arg = Path(workdir) if workdir is not None else None
        self.workdir: Path | None = None
        self._own_workdir = False
        self._log: list[RequestRecord] = []
        self._behaviours: dict[tuple[str, int], Behaviour] = {
            (spec.address, spec.port): spec.behaviour for spec in self.cluster.listeners
        }
        self._kube_faults = FaultTable(f for f in self.cluster.faults if f.api in ("kube", "*"))
        self._arm_faults = FaultTable(f for f in self.cluster.faults if f.api in ("arm", "*"))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kube: HttpServer | None = None
        self._arm: HttpServer | None = None
        self._nodes: Any = None  # akslbctl.lab.nodes.NodeListeners
        self.tls: TlsFiles | None = None
        self.kubeconfig: Path | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> Lab:
        if self.running:
            return self
        if self._workdir_arg is not None:
            self.workdir = self._workdir_arg
            self.workdir.mkdir(parents=True, exist_ok=True)
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix=f"akslbctl-lab-{self.cluster.name}-"))
            self._own_workdir = True
        if self._kube_tls or self._arm_tls:
            self.tls = write_tls_files(self.workdir / "tls")
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(_quiet_cancellation)
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name=f"akslbctl-lab-{self.cluster.name}", daemon=True)
        self._thread.start()
        try:
            self._call(self._start_async(), timeout=START_TIMEOUT)
            self.kubeconfig = self._write_kubeconfig()
        except BaseException:
            self.stop()
            raise
        return self

    async def _start_async(self) -> None:
        from akslbctl.lab.armapi import ArmApi
        from akslbctl.lab.kubeapi import KubeApi

        self._kube = HttpServer(
            KubeApi(self.cluster, self.kube_token),
            api="kube",
            tls=self.tls if self._kube_tls else None,
            faults=self._kube_faults,
            log=self._log,
        )
        arm_app = ArmApi(
            self.cluster,
            self.arm_token,
            behaviours=self._behaviours,
            scheme="https" if self._arm_tls else "http",
            page_size=self._arm_page_size,
        )
        self._arm = HttpServer(
            arm_app,
            api="arm",
            tls=self.tls if self._arm_tls else None,
            faults=self._arm_faults,
            log=self._log,
        )
        await self._kube.start()
        await self._arm.start()
        if self._with_listeners:
            from akslbctl.lab.nodes import NodeListeners

            self._nodes = NodeListeners()
            await self._nodes.start(self.cluster.listeners)

    def stop(self) -> None:
        """Stop every server and listener, end the loop thread and remove the lab's files."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and loop.is_running():
            with contextlib.suppress(Exception):
                self._call(self._stop_async(), timeout=30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)
        if loop is not None and not loop.is_running():
            _end_pending_tasks(loop)
            loop.close()
        self._loop = self._thread = None
        self._kube = self._arm = self._nodes = None
        if self._own_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self._own_workdir = False
        self.kubeconfig = None

    async def _stop_async(self) -> None:
        for server in (self._kube, self._arm):
            if server is not None:
                await server.stop()
        if self._nodes is not None:
            await self._nodes.stop()

    def _call(self, coro: Any, timeout: float | None = 30) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def call_in_loop(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the lab's loop thread and return its result."""

        async def run() -> Any:
            return fn()

        return self._call(run())

    # -- where things are ------------------------------------------------------------------------

    def _require(self) -> None:
        if not self.running:
            raise RuntimeError("the lab is not running: call start() first")

    @property
    def kube_url(self) -> str:
        self._require()
        assert self._kube is not None
        return self._kube.url

    @property
    def arm_url(self) -> str:
        self._require()
        assert self._arm is not None
        return self._arm.url

    @property
    def ca_file(self) -> Path | None:
        return self.tls.ca_pem if self.tls else None

    @property
    def env(self) -> dict[str, str]:
        """Environment that points akslbctl (or kubectl, or the SDKs) at this lab."""
        self._require()
        assert self.kubeconfig is not None
        env = {
            "KUBECONFIG": str(self.kubeconfig),
            "AKSLBCTL_ARM_ENDPOINT": self.arm_url,
            "AKSLBCTL_ARM_TOKEN": self.arm_token,
        }
        if self._arm_tls and self.tls is not None:
            env["REQUESTS_CA_BUNDLE"] = str(self.tls.ca_pem)
        # A proxy configured in the shell must not swallow the lab's loopback traffic. What the shell
        # already bypasses stays bypassed: both spellings get the entries of either, plus loopback
        # (Python's clients read no_proxy first, Go's NO_PROXY: one left short would leak).
        merged: list[str] = []
        for name in ("NO_PROXY", "no_proxy"):
            for entry in os.environ.get(name, "").split(","):
                if entry.strip() and entry.strip() not in merged:
                    merged.append(entry.strip())
        for extra in ("127.0.0.0/8", "localhost"):
            if extra not in merged:
                merged.append(extra)
        env["NO_PROXY"] = env["no_proxy"] = ",".join(merged)
        return env

    def address(self, node: str | int) -> str:
        """A node's address (its InternalIP) from its index, name or address."""
        return self.cluster.address_of(node)

    # -- observation -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request both APIs received, in order (method, path, query, status — no headers)."""
        return list(self._log)

    @property
    def writes(self) -> list[RequestRecord]:
        """Write attempts: every non-GET request except ARM's rule-health POST."""
        return [r for r in self._log if r.write]

    def clear_requests(self) -> None:
        self._log.clear()

    def behaviour(self, node: str | int, port: int) -> Behaviour:
        return self._behaviours.get((self.address(node), port), Closed())

    def connections(self, node: str | int, port: int) -> int:
        """Connections the node's listener on ``port`` accepted so far."""
        self._require()
        if self._nodes is None:
            return 0
        addr = self.address(node)
        return self.call_in_loop(lambda: self._nodes.connections(addr, port))

    # -- changing the world while it runs -------------------------------------------------------------

    def set_behaviour(self, node: str | int, port: int, behaviour: Behaviour) -> None:
        """Change what ``node`` answers on ``port`` — the listener and Azure's verdict alike.

        Safe from any thread; returns once the change is in force.
        """
        addr = self.address(node)

        def apply() -> None:
            self._behaviours[(addr, port)] = behaviour
            if self._nodes is not None:
                self._nodes.set(addr, port, behaviour)

        if self.running:
            self.call_in_loop(apply)
        else:
            self._behaviours[(addr, port)] = behaviour

    def add_fault(self, fault: Fault) -> None:
        """Add a transport fault (``fault.api``: "kube", "arm" or "*"); safe from any thread."""
        if fault.api in ("kube", "*"):
            self._kube_faults.add(fault)
        if fault.api in ("arm", "*"):
            self._arm_faults.add(fault)

    def clear_faults(self) -> None:
        self._kube_faults.clear()
        self._arm_faults.clear()

    # -- files -------------------------------------------------------------------------------------

    def _write_kubeconfig(self) -> Path:
        import yaml

        assert self.workdir is not None
        name = f"lab-{self.cluster.name}"
        cluster: dict[str, Any] = {"server": self.kube_url}
        if self._kube_tls and self.tls is not None:
            cluster["certificate-authority"] = str(self.tls.ca_pem)
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": cluster}],
            "users": [{"name": f"{name}-user", "user": {"token": self.kube_token}}],
            "contexts": [
                {
                    "name": name,
                    "context": {
                        "cluster": name,
                        "user": f"{name}-user",
                        "namespace": self.cluster.main_namespace,
                    },
                }
            ],
            "current-context": name,
            "preferences": {},
        }
        path = self.workdir / "kubeconfig"
        path.touch(mode=0o600)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path


def _end_pending_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the tasks still pending on a stopped loop and let them end, as ``asyncio.run`` does.

    A connection whose TLS handshake completed while the servers stopped gets its handler task after
    the last await of the stop: left alone, the closed loop would report it as destroyed while pending.
    """
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    if not pending:
        return
    for task in pending:
        task.cancel()
    with contextlib.suppress(Exception):
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def _quiet_cancellation(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's exception handler: a handler task cancelled at shutdown is no error (asyncio's stream
    callback in 3.11 reports a cancelled task's CancelledError as one)."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


def serve_forever(
    scenario: str | LabCluster,
    print_env: bool = True,
    *,
    out: IO[str] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run a lab until Ctrl-C or SIGTERM (or ``stop`` is set), printing shell ``export`` lines.

    KeyboardInterrupt propagates after the lab has stopped, so a CLI can exit 130 (143 after SIGTERM).
    """
    out = out or sys.stdout
    stop = stop or threading.Event()
    lab = Lab(scenario)
    previous = None
    if threading.current_thread() is threading.main_thread():

        def on_term(signum: int, frame: Any) -> None:
            # The CLI's own handler records that SIGTERM ended the run (exit 143, not 130's Ctrl-C)
            # and unwinds as Ctrl-C does; without one, unwind all the same.
            if callable(previous):
                previous(signum, frame)
            raise KeyboardInterrupt

        previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, on_term)
    try:
        lab.start()
        if print_env:
            c = lab.cluster
            out.write(f"# akslbctl lab {c.name}: {c.description}\n" if c.description else f"# akslbctl lab {c.name}\n")
            for key, value in lab.env.items():
                out.write(f"export {key}={shlex.quote(value)}\n")
            out.write(f"# main Service: {c.main_service}; stop with Ctrl-C\n")
            out.flush()
        while not stop.wait(0.5):
            pass
    finally:
        lab.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
