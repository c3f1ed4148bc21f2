"""A second process for a live ``explain``: it reads the Nodes list and runs the early probe round.

A live ``explain`` is CPU-bound in one interpreter: the Nodes list (decoding, the depth check,
normalising: most of the CPU before the first probe can go out), the ARM and analysis imports, the
early round and the decoding of the rest of the evidence all wait for the one GIL. A :class:`Worker`
is a child forked once the kubeconfig is loaded and before the command starts any thread. It does
two things on a CPU of its own, with the same code an in-process run uses:

1. With a Kubernetes source, it lists the Nodes at once — the same requests, through its copy of the
   same client — and, once the parent has read the Service and says whose objects are whose
   (:meth:`Worker.nodes`), normalises them and hands the parent the model's Nodes: the first Node's
   document as soon as it is in (where ARM is), then all of them. Anything but success (an error, a
   Node that does not parse, a crash) makes the parent read the Nodes itself, as without a worker, so
   errors, notes and exit codes are the ones an in-process read gives.
2. It waits for one round's targets (:meth:`Worker.run`), probes them with
   :func:`akslbctl.probing.runner.run_probes` and writes the results back. A probe goes out from the
   same machine, network namespace and source addresses as from the parent.

- Messages are pickled tuples on two private pipes between this process and its own child, nothing
  else reads or writes them.
- The child never writes to the terminal (beyond ``--debug`` lines, as the parent would write them)
  and ends with ``os._exit``: it runs none of the parent's exit handlers and flushes none of its
  buffers. It ignores Ctrl-C, which is the parent's to handle.
- When the parent goes away, its end of the plan pipe closes: a waiting child exits, a child in the
  middle of a round cancels it and exits. :meth:`Worker.close` stops a child still at work.
- Where ``fork`` is not safe (not Linux, or a thread already runs) or fails, there is no worker; and
  when a worker cannot do its part, the parent does it in-process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import operator
import os
import pickle
import sys
from collections.abc import Callable, Sequence
from typing import Any

from akslbctl.model.kube import Node
from akslbctl.model.probe import ProbeResult, ProbeTarget

_HEAD = 8  # bytes of the length that precedes each message
_MAX_MESSAGE = 1 << 31  # a length past this is no message of ours
# What crosses the pipe of each result: its fields but the target, which the parent has.
_RESULT_FIELDS = tuple(f.name for f in dataclasses.fields(ProbeResult) if f.name != "target")
# Each Node crosses as the tuple of its fields: a third less to pickle and unpickle than the objects.
_NODE_FIELDS = tuple(f.name for f in dataclasses.fields(Node))
_GRACE = 2.0  # seconds the parent waits past the round's bound for the child's answer
# The results pipe holds this much (Linux's default cap for a process's pipe): the 0.8 MB of a
# 1,000-node Nodes message goes across in one write and one read. With the default 64 KB the parent's
# reading thread takes a dozen reads, and after each it waits for the GIL the collection's threads
# hold — up to a switch interval (5 ms) every time.
_PIPE_SIZE = 1 << 20


class WorkerFailed(Exception):
    """The worker could not do its part: the caller does it in-process."""


class Worker:
    """One forked child (:meth:`start`): the Nodes (:meth:`nodes`), then one probe round (:meth:`run`)."""

    def __init__(self, pid: int, plan_w: int, results_r: int, *, lists_nodes: bool) -> None:
        self.pid = pid
        self._plan_w = plan_w
        self._results_r = results_r
        self._lists_nodes = lists_nodes
        self._used = False
        self._broken = False

    @classmethod
    def start(cls, kube: Any = None) -> Worker | None:
        """Fork the worker, or None where it cannot be (the work then stays in-process). ``kube``: a
        :class:`akslbctl.sources.kube.KubeSource` whose Nodes the child lists at once; it must not
        have sent a request yet (the child must not share a connection with the parent).

        Call it before the process starts any thread: a fork copies only the calling thread, and a
        lock another thread held stays locked in the child for ever."""
        import threading

        if not sys.platform.startswith("linux") or threading.active_count() > 1:
            return None
        try:
            plan_r, plan_w = os.pipe()
            results_r, results_w = os.pipe()
        except OSError:
            return None
        _widen(results_w)
        for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        try:
            pid = os.fork()
        except OSError:
            for fd in (plan_r, plan_w, results_r, results_w):
                os.close(fd)
            return None
        if pid == 0:
            _child(plan_r, plan_w, results_r, results_w, kube)  # never returns
        os.close(plan_r)
        os.close(results_w)
        return cls(pid, plan_w, results_r, lists_nodes=kube is not None)

    # -- the Nodes ---------------------------------------------------------------------------------

    def nodes(
        self, prefixes: Sequence[str], ips: Sequence[str], first: Callable[[Any], None] | None = None
    ) -> tuple[tuple, list[str]] | None:
        """(Nodes, notes of the Nodes skipped as not the Service's), normalised as
        ``normalize.each(normalize.node, docs, "Node", Ownership(prefixes, ips))`` gives them, with
        ``first`` called with the first Node's document as soon as it is in; or None when the worker
        could not list or normalise them (the caller reads them itself). Raises the error the API (or
        the deadline) gave the worker's list, as an in-process list would have raised it."""
        if not self._lists_nodes or self._broken:
            return None
        self._lists_nodes = False
        try:
            _send(self._plan_w, pickle.dumps(("ownership", tuple(prefixes), tuple(ips))))
            while True:
                kind, *payload = pickle.loads(_receive(self._results_r))
                if kind == "first":
                    if first is not None:
                        first(payload[0])
                elif kind == "nodes":
                    return tuple(Node(*fields) for fields in payload[0]), payload[1]
                elif kind == "nodes-error":
                    error = payload[0]
                    break
                else:  # "nodes-failed": the parent's own read says why, as it would have
                    return None
        except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
            self._broken = True
            return None
        raise error

    # -- the probe round ---------------------------------------------------------------------------

    def run(
        self,
        targets: list[ProbeTarget],
        *,
        timeout: float,
        concurrency: int | None,
        round_timeout: float | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> dict[ProbeTarget, ProbeResult]:
        """The round's results, as :func:`akslbctl.probing.runner.probe_all` gives them (each target
        probed once, results keyed by the caller's first of equal targets, in order). ``TimeoutError``
        when ``round_timeout`` passed; :class:`WorkerFailed` when the worker could not run the round.
        ``on_sent`` is called once the child has the targets, while it probes."""
        self.begin(targets, timeout=timeout, concurrency=concurrency, round_timeout=round_timeout)
        if on_sent is not None:
            on_sent()
        return self.wait(targets, round_timeout=round_timeout)

    def begin(
        self, targets: list[ProbeTarget], *, timeout: float, concurrency: int | None, round_timeout: float | None = None
    ) -> None:
        """Hand the child the round's targets: it probes them as soon as this returns, while the caller
        does what it likes until :meth:`wait`. :class:`WorkerFailed` when it cannot take them."""
        if self._used or self._broken:
            self.close()
            raise WorkerFailed("the worker has no round to run")
        self._used = True
        plan = [(t.address, t.port, t.protocol, t.path) for t in targets]
        try:
            _send(self._plan_w, pickle.dumps(("round", plan, timeout, concurrency, round_timeout)))
        except OSError as exc:
            self.close()
            raise WorkerFailed(f"the probe worker failed: {type(exc).__name__}: {exc}") from None

    def wait(self, targets: list[ProbeTarget], *, round_timeout: float | None = None) -> dict[ProbeTarget, ProbeResult]:
        """The results of the round :meth:`begin` handed over (the same ``targets``), as :meth:`run`
        gives them. ``round_timeout``: as given to :meth:`begin`."""
        wait = None if round_timeout is None else max(round_timeout, 0.0) + _GRACE
        try:
            kind, payload = pickle.loads(_receive(self._results_r, wait))
            if kind == "timeout":
                raise TimeoutError("the probe round did not finish in time")
            if kind != "ok":
                raise WorkerFailed(f"the probe worker failed: {payload}")
            results = {targets[i]: ProbeResult(targets[i], *fields) for i, fields in payload}
        except (TimeoutError, WorkerFailed):
            self.close()
            raise
        except (OSError, EOFError, ValueError, TypeError, IndexError, pickle.UnpicklingError) as exc:
            self.close()
            raise WorkerFailed(f"the probe worker failed: {type(exc).__name__}: {exc}") from None
        self.close(answered=True)
        return results

    def close(self, *, answered: bool = False) -> None:
        """End the child (it reads EOF on its plan pipe) and reap it. ``answered``: it has sent its
        results and has nothing left to do but exit, so it is waited for; otherwise it is stopped."""
        import signal

        for fd in (self._plan_w, self._results_r):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._plan_w = self._results_r = -1
        if self.pid <= 0:
            return
        try:
            done, _ = os.waitpid(self.pid, 0 if answered else os.WNOHANG)
            if done == 0:  # still at work (or waiting for a plan): nothing of it outlives the command
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        except (ChildProcessError, ProcessLookupError, OSError):
            pass
        self.pid = 0


def _widen(fd: int) -> None:
    """Give the pipe of ``fd`` room for :data:`_PIPE_SIZE` bytes, where the system allows it."""
    import fcntl

    size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if size is not None:
        with contextlib.suppress(OSError):  # a lower system cap: the default size works, only slower
            fcntl.fcntl(fd, size, _PIPE_SIZE)


def _send(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(_HEAD, "big") + data)
    while view:
        view = view[os.write(fd, view) :]


def _receive(fd: int, wait: float | None = None) -> bytes:
    import time

    end = None if wait is None else time.monotonic() + wait
    head = _read_exactly(fd, _HEAD, end)
    size = int.from_bytes(head, "big")
    if size > _MAX_MESSAGE:
        raise ValueError(f"a message of {size} bytes")
    return _read_exactly(fd, size, end)


def _read_exactly(fd: int, n: int, end: float | None) -> bytes:
    import select
    import time

    parts = []
    while n:
        if end is not None:
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("the worker did not answer in time")
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the worker closed its pipe")
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _child(plan_r: int, plan_w: int, results_r: int, results_w: int, kube: Any) -> None:  # pragma: no cover
    code = 1
    try:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        os.close(plan_w)
        os.close(results_r)
        listed = _list_nodes(kube, results_w) if kube is not None else None
        if listed is None:
            _load_prober()
        while True:
            try:
                message = pickle.loads(_receive(plan_r))
            except EOFError:  # the parent needs nothing more
                os._exit(0)
            if message[0] == "ownership":
                _send(results_w, pickle.dumps(_normalised(listed, message[1], message[2])))
                if listed is not None:
                    listed = None  # the documents are freed before the round
                    _load_prober()  # while the parent reads the rest
            elif message[0] == "round":
                answer = _round(message[1:], plan_r)
                if answer is not None:
                    _send(results_w, pickle.dumps(answer))
                code = 0
                break
    except BaseException:  # the parent sees EOF and does the rest itself
        pass
    os._exit(code)


def _load_prober() -> None:  # pragma: no cover - runs in the forked child
    import akslbctl.probing.http  # noqa: F401
    import akslbctl.probing.runner  # noqa: F401


def _list_nodes(kube: Any, results_w: int) -> list | BaseException | None:  # pragma: no cover - forked child
    """The Nodes' documents, the first one sent as soon as it is in; the error when the API (or the
    deadline) refused them with one of akslbctl's errors; None when the list failed otherwise."""
    from akslbctl.errors import AkslbctlError

    try:
        return kube.nodes(lambda doc: _send(results_w, pickle.dumps(("first", doc))))
    except AkslbctlError as exc:
        return exc
    except Exception:
        return None
    finally:
        with contextlib.suppress(Exception):
            kube.close()


def _normalised(docs: Any, prefixes: tuple, ips: tuple) -> tuple:  # pragma: no cover - forked child
    if isinstance(docs, BaseException):
        # The parent raises it as its own read would have (the same class, message and hint), rather
        # than ask again a server that just failed, or hung until the deadline.
        try:
            again = pickle.loads(pickle.dumps(docs))
        except Exception:
            return ("nodes-failed",)
        same = type(again) is type(docs) and str(again) == str(docs)
        return ("nodes-error", docs.with_traceback(None)) if same else ("nodes-failed",)
    if docs is None:
        return ("nodes-failed",)
    from akslbctl.sources import normalize

    ownership = normalize.Ownership(prefixes, ips)
    try:
        nodes = tuple(normalize.each(normalize.node, docs, "Node", ownership))
    except Exception:  # a Node of the Service's own that does not parse: the parent's read says so
        return ("nodes-failed",)
    fields = operator.attrgetter(*_NODE_FIELDS)
    return ("nodes", [fields(n) for n in nodes], list(ownership.notes))


def _round(message: tuple, plan_r: int) -> tuple | None:  # pragma: no cover - runs in the forked child
    import asyncio

    from akslbctl.probing.runner import run_probes

    plan, timeout, concurrency, round_timeout = message
    targets = [ProbeTarget(*t) for t in plan]

    async def watched() -> dict[ProbeTarget, ProbeResult] | str:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(run_probes(targets, timeout=timeout, concurrency=concurrency))
        gone = loop.create_future()
        loop.add_reader(plan_r, lambda: gone.done() or gone.set_result(None))  # EOF: the parent went away
        try:
            bound = None if round_timeout is None else max(round_timeout, 0.0)
            await asyncio.wait([task, gone], timeout=bound, return_when=asyncio.FIRST_COMPLETED)
        finally:
            loop.remove_reader(plan_r)
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return "gone" if gone.done() else "timeout"
        return task.result()

    try:
        results = asyncio.run(watched())
    except Exception as exc:
        return ("error", f"{type(exc).__name__}: {exc}")
    if results == "gone":  # nobody is waiting for the answer
        return None
    if results == "timeout":
        return ("timeout", None)
    index: dict[ProbeTarget, int] = {}
    for i, t in enumerate(targets):
        index.setdefault(t, i)  # the first of equal targets, as an in-process round keys its results
    return ("ok", [(index[t], tuple(getattr(r, f) for f in _RESULT_FIELDS)) for t, r in results.items()])
