"""The worker (akslbctl.worker): a forked child that lists the Nodes and runs one probe round.

A fork needs a process without threads, which a test process is not (the labs of other tests run in
threads), so each case runs as a script in a fresh interpreter: it forks the worker first, then
starts its listeners on 127.0.0.0/8 addresses, and prints what it saw as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading

import pytest

from akslbctl.model.probe import ProbeTarget
from akslbctl.worker import Worker

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the worker forks on Linux only")

LISTENERS = """
import json, os, socket, sys, threading, time
from akslbctl.model.probe import ProbeTarget
from akslbctl.worker import Worker, WorkerFailed

def serve(address, answer):
    # A listener on a loopback address: each connection gets `answer` (bytes), or nothing (None: hangs).
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, 0))
    sock.listen(64)
    held = []
    def loop():
        while True:
            conn, _ = sock.accept()
            if answer is None:
                held.append(conn)
                continue
            conn.recv(65536)
            conn.sendall(answer)
            conn.close()
    threading.Thread(target=loop, daemon=True).start()
    return sock.getsockname()[1]

def closed_port(address):
    sock = socket.socket()
    sock.bind((address, 0))
    port = sock.getsockname()[1]
    sock.close()
    return port

HEALTHY = (b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: 70\\r\\n\\r\\n"
           b'{"service":{"namespace":"default","name":"web"},"localEndpoints":1}   ')
NO_ENDPOINT = (b"HTTP/1.1 503 Service Unavailable\\r\\nServer: kube-proxy\\r\\nContent-Length: 70\\r\\n\\r\\n"
               b'{"service":{"namespace":"default","name":"web"},"localEndpoints":0}   ')

def shown(results):
    return {t.url: [r.outcome, r.status, r.local_endpoints, r.error, r.server] for t, r in results.items()}
"""


def _script(body: str, timeout: float = 60.0) -> dict:
    code = LISTENERS + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_worker_gives_the_results_an_in_process_round_gives():
    seen = _script(
        """
        worker = Worker.start()
        assert worker is not None
        ok, down = serve("127.31.0.1", HEALTHY), serve("127.31.0.2", NO_ENDPOINT)
        refused = closed_port("127.31.0.3")
        targets = [
            ProbeTarget("127.31.0.1", ok, "Http", "/healthz"),
            ProbeTarget("127.31.0.2", down, "Http", "/healthz"),
            ProbeTarget("127.31.0.3", refused, "Tcp"),
            ProbeTarget("127.31.0.1", ok, "Http", "/healthz"),  # twice: probed once
            ProbeTarget("0.0.0.0", 80, "Tcp"),  # not a node address: not probed
            ProbeTarget("127.31.0.1", ok, "Tcp"),
        ]
        from akslbctl.probing.runner import probe_all
        inside = probe_all(targets, timeout=5.0)
        got = worker.run(targets, timeout=5.0, concurrency=None, round_timeout=30.0)
        print(json.dumps({
            "worker": shown(got),
            "inside": shown(inside),
            "order": [t.url for t in got],
            "same_objects": all(a is b for a, b in zip(got, [t for t in dict.fromkeys(targets) if t in got])),
            "reaped": worker.pid == 0,
        }))
        """
    )
    assert seen["worker"] == seen["inside"]
    ok, down, refused, tcp = seen["order"]
    assert seen["worker"][ok][:3] == ["ok", 200, 1]
    assert seen["worker"][down][:3] == ["http-status", 503, 0] and seen["worker"][down][4] == "kube-proxy"
    assert seen["worker"][refused][0] == "refused"
    assert seen["worker"][tcp][0] == "ok"
    assert "tcp://0.0.0.0:80" not in seen["worker"]
    assert seen["same_objects"] and seen["reaped"]


def test_a_round_past_its_bound_is_a_timeout_and_the_child_is_stopped():
    seen = _script(
        """
        worker = Worker.start()
        pid = worker.pid
        port = serve("127.31.1.1", None)  # accepts, never answers
        try:
            worker.run([ProbeTarget("127.31.1.1", port, "Http", "/healthz")], timeout=30.0, concurrency=None,
                       round_timeout=0.5)
            outcome = "no timeout"
        except TimeoutError:
            outcome = "timeout"
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        print(json.dumps({"outcome": outcome, "alive": alive}))
        """
    )
    assert seen == {"outcome": "timeout", "alive": False}


def test_the_child_ends_its_round_when_the_parent_goes_away():
    # The parent sends a plan whose probe would hang for a minute, then goes away without a word (its
    # end of the plan pipe closes, as when it exits): the child cancels the round and exits at once.
    seen = _script(
        """
        from akslbctl import worker as W
        import pickle
        child = Worker.start()
        port = serve("127.31.2.1", None)
        plan = [("127.31.2.1", port, "Http", "/healthz")]
        W._send(child._plan_w, pickle.dumps(("round", plan, 60.0, None, None)))
        time.sleep(0.2)  # the probe is in flight
        os.close(child._plan_w)
        _, status = os.waitpid(child.pid, 0)
        print(json.dumps({"exited": os.WIFEXITED(status)}))
        """,
        timeout=40.0,  # a child that waited out its 60 s probe would be killed here: the test fails
    )
    assert seen == {"exited": True}


def test_a_worker_that_died_fails_and_the_round_runs_in_process():
    seen = _script(
        """
        import signal
        from akslbctl import pipeline
        from akslbctl.options import ProbeOptions
        worker, again = Worker.start(), Worker.start()  # both before the listener's thread starts
        os.kill(worker.pid, signal.SIGKILL)
        os.waitpid(worker.pid, 0)
        port = serve("127.31.3.1", HEALTHY)
        target = ProbeTarget("127.31.3.1", port, "Http", "/healthz")
        try:
            Worker.run(worker, [target], timeout=5.0, concurrency=None)
            failed = False
        except WorkerFailed:
            failed = True
        os.kill(again.pid, signal.SIGKILL)
        os.waitpid(again.pid, 0)
        again.pid = 0
        results = pipeline.run_probes([target], ProbeOptions(timeout=5.0), worker=again)
        print(json.dumps({"failed": failed, "fallback": shown(results)}))
        """
    )
    assert seen["failed"] is True
    assert [v[:3] for v in seen["fallback"].values()] == [["ok", 200, 1]]


def test_a_worker_runs_one_round_only():
    seen = _script(
        """
        worker = Worker.start()
        port = serve("127.31.4.1", HEALTHY)
        target = ProbeTarget("127.31.4.1", port, "Tcp")
        first = worker.run([target], timeout=5.0, concurrency=None)
        try:
            worker.run([target], timeout=5.0, concurrency=None)
            second = "ran"
        except WorkerFailed as exc:
            second = str(exc)
        print(json.dumps({"first": shown(first), "second": second}))
        """
    )
    assert [v[0] for v in seen["first"].values()] == ["ok"]
    assert "no round to run" in seen["second"]


def test_a_worker_left_unused_is_stopped_and_reaped():
    seen = _script(
        """
        worker = Worker.start()
        pid = worker.pid
        worker.close()
        try:
            os.waitpid(pid, os.WNOHANG)
            reaped = False
        except ChildProcessError:
            reaped = True
        print(json.dumps({"reaped": reaped, "pid": worker.pid}))
        """
    )
    assert seen == {"reaped": True, "pid": 0}


def test_no_worker_is_forked_once_a_thread_runs():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert Worker.start() is None
    finally:
        stop.set()
        thread.join()


def test_a_worker_answers_only_for_the_targets_it_was_given():
    # The results map each of the caller's own target objects: nothing the child made is handed on.
    seen = _script(
        """
        worker = Worker.start()
        port = serve("127.31.5.1", HEALTHY)
        mine = ProbeTarget("127.31.5.1", port, "Http", "/healthz")
        got = worker.run([mine], timeout=5.0, concurrency=None)
        print(json.dumps({"same": [t is mine and r.target is mine for t, r in got.items()]}))
        """
    )
    assert seen == {"same": [True]}


def test_probe_target_fields_cross_the_pipe_in_order():
    # The child rebuilds each target from (address, port, protocol, path): the model's own order.
    t = ProbeTarget("10.0.0.1", 32700, "Http", "/healthz")
    assert ProbeTarget(*(t.address, t.port, t.protocol, t.path)) == t
