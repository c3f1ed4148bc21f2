"""A probe round in a process of its own, so that it runs on a CPU of its own.

A live ``explain`` is CPU-bound in one interpreter: while the early round probes the nodes, the same
process decodes and normalises the rest of the evidence, and both wait for the one GIL. A
:class:`Worker` is a child forked before the command starts any thread. It waits on a pipe for one
round's targets, probes them with the same :func:`akslbctl.probing.runner.run_probes` an in-process
round runs, and writes the results back. Nothing about a probe changes: the same code sends it, from
the same machine, network namespace and source addresses.

- Only plain values cross the pipes (``marshal`` of tuples of str, int, float, bool and None), between
  this process and its own child.
- The child never writes to the terminal and ends with ``os._exit``: it runs none of the parent's exit
  handlers and flushes none of its buffers. It ignores Ctrl-C, which is the parent's to handle.
- When the parent goes away, its end of the plan pipe closes: a waiting child exits, a child in the
  middle of a round cancels it and exits. No probe outlives the command by more than a moment.
- Where ``fork`` is not safe (not Linux, or a thread already runs) or fails, there is no worker, and
  when a worker cannot run its round (it died, it answered nonsense), the round runs in-process.
"""

from __future__ import annotations

import contextlib
import os
import sys

from akslbctl.model.probe import ProbeResult, ProbeTarget

_HEAD = 8  # bytes of the length that precedes each message
_MAX_MESSAGE = 1 << 30  # a length past this is no message of ours
_RESULT_FIELDS = (
    "outcome",
    "status",
    "latency_ms",
    "local_endpoints",
    "service_proxy_healthy",
    "node_eligible",
    "body_excerpt",
    "error",
    "at",
    "server",
)
_GRACE = 2.0  # seconds the parent waits past the round's bound for the child's answer


class WorkerFailed(Exception):
    """The worker could not run the round: the caller runs it in-process."""


class Worker:
    """One forked child that runs one probe round (:meth:`run`). :meth:`start` makes it."""

    def __init__(self, pid: int, plan_w: int, results_r: int) -> None:
        self.pid = pid
        self._plan_w = plan_w
        self._results_r = results_r
        self._used = False

    @classmethod
    def start(cls) -> Worker | None:
        """Fork the worker, or None where it cannot be (the round then runs in-process).

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
            _child(plan_r, plan_w, results_r, results_w)  # never returns
        os.close(plan_r)
        os.close(results_w)
        return cls(pid, plan_w, results_r)

    def run(
        self,
        targets: list[ProbeTarget],
        *,
        timeout: float,
        concurrency: int | None,
        round_timeout: float | None = None,
    ) -> dict[ProbeTarget, ProbeResult]:
        """The round's results, as :func:`akslbctl.probing.runner.probe_all` gives them (each target
        probed once, results in target order). ``TimeoutError`` when ``round_timeout`` passed;
        :class:`WorkerFailed` when the worker could not run the round."""
        import marshal

        if self._used:
            raise WorkerFailed("the probe worker has run its round")
        self._used = True
        plan = [(t.address, t.port, t.protocol, t.path) for t in targets]
        wait = None if round_timeout is None else max(round_timeout, 0.0) + _GRACE
        try:
            _send(self._plan_w, marshal.dumps((plan, timeout, concurrency, round_timeout)))
            kind, payload = marshal.loads(_receive(self._results_r, wait))
            if kind == "timeout":
                raise TimeoutError("the probe round did not finish in time")
            if kind != "ok":
                raise WorkerFailed(f"the probe worker failed: {payload}")
            results = {targets[i]: ProbeResult(targets[i], *fields) for i, fields in payload}
        except TimeoutError:
            self.close()
            raise
        except (OSError, EOFError, ValueError, TypeError, IndexError) as exc:
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
            if done == 0:  # waiting for a plan, or probing after the parent gave up: no probe outlives it
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        except (ChildProcessError, ProcessLookupError, OSError):
            pass
        self.pid = 0


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
                raise TimeoutError("the probe worker did not answer in time")
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the probe worker closed its pipe")
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _child(plan_r: int, plan_w: int, results_r: int, results_w: int) -> None:  # pragma: no cover - forked
    code = 1
    try:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        os.close(plan_w)
        os.close(results_r)
        import marshal

        import akslbctl.probing.http  # noqa: F401  # loaded while the parent reads the evidence
        import akslbctl.probing.runner  # noqa: F401

        try:
            message = _receive(plan_r)
        except EOFError:  # the parent needed no round
            os._exit(0)
        answer = _round(marshal.loads(message), plan_r)
        if answer is not None:
            _send(results_w, marshal.dumps(answer))
        code = 0
    except BaseException:  # the parent sees EOF and runs the round itself
        pass
    os._exit(code)


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
