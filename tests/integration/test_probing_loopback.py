"""The prober against real listeners (NodeListeners) on 127.42.0.0/16: what each node behaviour looks like.

Every simulated node gets its own loopback address, so what the prober meets is the kernel's own
answer: a real RST, a real dropped SYN, a real TLS handshake.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
import tracemalloc

import httpx
import pytest

from akslbctl.lab.behaviours import (
    Behaviour,
    Blackhole,
    BrokenTLS,
    Closed,
    Drip,
    Garbage,
    Hang,
    Http,
    HugeBody,
    ListenerSpec,
    Reply,
    ResetMidAnswer,
    ResetOnAccept,
    Sequence,
)
from akslbctl.lab.nodes import NodeListeners
from akslbctl.model.probe import (
    BAD_RESPONSE,
    HTTP_STATUS,
    OK,
    REFUSED,
    RESET,
    TIMEOUT,
    TLS_ERROR,
    ProbeResult,
    ProbeTarget,
)
from akslbctl.probing.http import NodeTransport
from akslbctl.probing.route import local_address_for
from akslbctl.probing.runner import probe_all, raise_nofile_limit, run_probes

PORT = 32001
FAIL_TIMEOUT = 0.5  # short probe timeout for the cases that must time out

_addresses = (f"127.42.{i // 250}.{i % 250 + 1}" for i in itertools.count())


def new_address() -> str:
    """A loopback address no other test in this module uses."""
    return next(_addresses)


def kube_proxy_body(local: int, healthy: bool = True) -> bytes:
    doc = {"service": {"namespace": "default", "name": "web"}, "localEndpoints": local, "serviceProxyHealthy": healthy}
    return json.dumps(doc, indent=2).encode()


HEALTHY = Http(default=Reply(200, kube_proxy_body(2)))
NO_LOCAL_ENDPOINTS = Http(default=Reply(503, kube_proxy_body(0)))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def probe_one(behaviour: Behaviour, protocol: str, path: str | None = "/healthz", timeout: float = 2.0):
    address = new_address()
    async with NodeListeners() as lab:
        await lab.start([ListenerSpec(address, PORT, behaviour)])
        target = ProbeTarget(address, PORT, protocol, path)
        results = await run_probes([target], timeout=timeout)
    assert list(results) == [target]
    return results[target]


# --- every behaviour → its outcome ----------------------------------------------------------------

CASES = [
    # (id, behaviour, protocol, path, outcome, status)
    ("healthy-http", HEALTHY, "Http", "/healthz", OK, 200),
    ("healthy-tcp", HEALTHY, "Tcp", None, OK, None),
    ("no-local-endpoints", NO_LOCAL_ENDPOINTS, "Http", "/healthz", HTTP_STATUS, 503),
    ("route-hit", Http(routes={"/healthz": Reply(200, b"ok")}), "Http", "/healthz", OK, 200),
    ("route-miss-default-404", Http(routes={"/healthz": Reply(200, b"ok")}), "Http", "/", HTTP_STATUS, 404),
    ("redirect", Http(default=Reply(301, b"", (("Location", "/elsewhere"),))), "Http", "/", HTTP_STATUS, 301),
    ("closed-tcp", Closed(), "Tcp", None, REFUSED, None),
    ("closed-http", Closed(), "Http", "/healthz", REFUSED, None),
    ("closed-https", Closed(), "Https", "/healthz", REFUSED, None),
    ("blackhole-tcp", Blackhole(), "Tcp", None, TIMEOUT, None),
    ("blackhole-http", Blackhole(), "Http", "/healthz", TIMEOUT, None),
    ("hang-tcp", Hang(), "Tcp", None, OK, None),
    ("hang-http", Hang(), "Http", "/healthz", TIMEOUT, None),
    ("drip-http", Drip(interval=0.2), "Http", "/healthz", TIMEOUT, None),
    ("reset-mid-answer", ResetMidAnswer(), "Http", "/healthz", RESET, None),
    ("reset-on-accept", ResetOnAccept(), "Http", "/healthz", RESET, None),
    ("garbage-http", Garbage(), "Http", "/healthz", BAD_RESPONSE, None),
    ("garbage-tcp", Garbage(), "Tcp", None, OK, None),
    ("http09-style", Garbage(data=b"ok\n"), "Http", "/healthz", BAD_RESPONSE, None),
    ("huge-body", HugeBody(), "Http", "/healthz", OK, 200),
    ("huge-body-500", HugeBody(size=1 << 20, status=500), "Http", "/", HTTP_STATUS, 500),
    ("https-tls-listener", Http(default=Reply(200, kube_proxy_body(1)), tls=True), "Https", "/healthz", OK, 200),
    ("https-plain-listener", HEALTHY, "Https", "/healthz", TLS_ERROR, None),
    ("https-broken-tls", BrokenTLS(), "Https", "/healthz", TLS_ERROR, None),
    ("https-garbage", Garbage(), "Https", "/healthz", TLS_ERROR, None),
    # The TLS server reads the plain request and closes without a byte: one outcome with a reset, which
    # is what the same close looks like when the request was still unread (issue 13 §8).
    ("http-to-tls-listener", Http(tls=True), "Http", "/healthz", RESET, None),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("behaviour", "protocol", "path", "outcome", "status"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
async def test_behaviour_gives_outcome(
    behaviour: Behaviour, protocol: str, path: str | None, outcome: str, status: int | None
) -> None:
    timeout = FAIL_TIMEOUT if outcome == TIMEOUT else 3.0
    result = await probe_one(behaviour, protocol, path, timeout=timeout)
    assert (result.outcome, result.status) == (outcome, status), result.error
    assert result.latency_ms is not None and result.at is not None
    assert (result.error is None) == (outcome == OK)


@pytest.mark.anyio
async def test_kube_proxy_fields_come_through() -> None:
    ok = await probe_one(HEALTHY, "Http")
    assert (ok.local_endpoints, ok.service_proxy_healthy, ok.body_excerpt) == (2, True, None)
    down = await probe_one(NO_LOCAL_ENDPOINTS, "Http")
    assert (down.local_endpoints, down.service_proxy_healthy) == (0, True)
    assert down.body_excerpt is not None and '"localEndpoints": 0' in down.body_excerpt


@pytest.mark.anyio
async def test_tls_listener_body_is_parsed() -> None:
    result = await probe_one(Http(default=Reply(200, kube_proxy_body(5)), tls=True), "Https")
    assert (result.outcome, result.local_endpoints) == (OK, 5)


# --- deadlines ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_timeout_bounds_the_whole_probe_against_a_dripping_server() -> None:
    # A byte every 50 ms: no single read ever waits long, only the whole answer is late.
    drip = Drip(interval=0.05, data=b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 200 + b"\r\n\r\n")
    started = time.perf_counter()
    result = await probe_one(drip, "Http", timeout=0.6)
    elapsed = time.perf_counter() - started
    assert result.outcome == TIMEOUT
    assert result.error == "no complete answer within 0.6 s"
    assert elapsed >= 0.6  # waited the whole timeout (how much longer depends on the machine's load)
    assert result.latency_ms >= 590


@pytest.mark.anyio
async def test_blackhole_timeout_is_honoured_for_tcp() -> None:
    started = time.perf_counter()
    result = await probe_one(Blackhole(), "Tcp", timeout=0.3)
    assert result.outcome == TIMEOUT
    assert "0.3 s" in (result.error or "")
    assert time.perf_counter() - started >= 0.3


@pytest.mark.anyio
async def test_drip_that_finishes_in_time_is_ok() -> None:
    result = await probe_one(Drip(interval=0.005), "Http", timeout=3.0)
    assert (result.outcome, result.status) == (OK, 200)


# --- bodies ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_huge_body_is_never_read_past_the_cap() -> None:
    address = new_address()
    async with NodeListeners() as lab:
        await lab.start([ListenerSpec(address, PORT, HugeBody(size=10 * 1024 * 1024))])
        async with httpx.AsyncClient(transport=NodeTransport(body_cap=1000), trust_env=False) as client:
            response = await client.get(f"http://{address}:{PORT}/")
        assert response.status_code == 200
        assert response.headers["content-length"] == str(10 * 1024 * 1024)
        assert len(response.content) == 1000  # the transport yields at most its cap

        tracemalloc.start()
        try:
            results = await run_probes([ProbeTarget(address, PORT, "Http", "/")], timeout=5.0)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    result = next(iter(results.values()))
    assert result.outcome == OK and result.error is None  # judged on the head: no wait for the body
    assert peak < 1024 * 1024  # far below the 10 MiB the node offers: the probe hangs up, never downloads


@pytest.mark.anyio
async def test_chunked_answer_is_decoded() -> None:
    chunked = Reply(
        200,
        b'9\r\n{"localEn\r\n10\r\ndpoints": 3}    \r\n0\r\n\r\n',
        (("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")),
    )
    result = await probe_one(Http(default=chunked), "Http")
    assert (result.outcome, result.local_endpoints) == (OK, 3)


# --- sequences, live changes, duplicates ----------------------------------------------------------


@pytest.mark.anyio
async def test_sequence_flips_per_probe() -> None:
    address = new_address()
    target = ProbeTarget(address, PORT, "Http", "/healthz")
    flapping = Sequence((HEALTHY, NO_LOCAL_ENDPOINTS, Hang(), HEALTHY))
    async with NodeListeners() as lab:
        await lab.start([ListenerSpec(address, PORT, flapping)])
        outcomes = []
        for _ in range(5):
            results = await run_probes([target], timeout=FAIL_TIMEOUT)
            outcomes.append(results[target].outcome)
        assert outcomes == [OK, HTTP_STATUS, TIMEOUT, OK, OK]  # the last step repeats
        assert lab.connections(address, PORT) == 5


@pytest.mark.anyio
async def test_set_replaces_a_behaviour_live() -> None:
    address = new_address()
    target = ProbeTarget(address, PORT, "Tcp")
    async with NodeListeners() as lab:
        await lab.start([ListenerSpec(address, PORT, HEALTHY)])
        seen = [(await run_probes([target], timeout=FAIL_TIMEOUT))[target].outcome]
        for behaviour in (Closed(), Blackhole(), HEALTHY, Closed(), HEALTHY):
            lab.set(address, PORT, behaviour)
            seen.append((await run_probes([target], timeout=FAIL_TIMEOUT))[target].outcome)
        assert seen == [OK, REFUSED, TIMEOUT, OK, REFUSED, OK]
        lab.set(address, PORT + 1, HEALTHY)  # a port the lab did not have yet
        other = ProbeTarget(address, PORT + 1, "Http", "/healthz")
        assert (await run_probes([other]))[other].outcome == OK


@pytest.mark.anyio
async def test_duplicates_are_probed_once() -> None:
    a, b = new_address(), new_address()
    ta, tb = ProbeTarget(a, PORT, "Http", "/healthz"), ProbeTarget(b, PORT, "Tcp")
    async with NodeListeners() as lab:
        await lab.start([ListenerSpec(a, PORT, HEALTHY), ListenerSpec(b, PORT, HEALTHY)])
        results = await run_probes([ta, tb, ta, ProbeTarget(a, PORT, "Http", "/healthz"), tb])
        assert list(results) == [ta, tb]
        assert lab.connections(a, PORT) == 1
        assert lab.connections(b, PORT) == 1


@pytest.mark.anyio
async def test_many_nodes_under_a_small_concurrency() -> None:
    nodes = [new_address() for _ in range(300)]
    async with NodeListeners() as lab:
        await lab.start(ListenerSpec(a, PORT, HEALTHY) for a in nodes)
        targets = [ProbeTarget(a, PORT, "Http", "/healthz") for a in nodes]
        results = await run_probes(targets, concurrency=16)
    assert [r.outcome for r in results.values()] == [OK] * 300
    assert all(r.local_endpoints == 2 for r in results.values())


@pytest.mark.anyio
async def test_every_hanging_node_is_probed_at_once() -> None:
    """The big outage (issue 13 #13): every node hangs. With the default concurrency all probes are in
    flight together — more than the old bound of 512 — so the round costs one timeout, not one per
    batch, and every probe ends as a timeout (none left unprobed)."""
    import asyncio

    nodes = [new_address() for _ in range(600)]
    async with NodeListeners() as lab:
        await lab.start(ListenerSpec(a, PORT, Hang()) for a in nodes)
        targets = [ProbeTarget(a, PORT, "Http", "/healthz") for a in nodes]
        peak = 0

        async def watch() -> None:
            nonlocal peak
            while True:
                peak = max(peak, len(lab._connections))  # connections the listeners hold open now
                await asyncio.sleep(0.01)

        watcher = asyncio.ensure_future(watch())
        try:
            results = await run_probes(targets, timeout=3.0)
        finally:
            watcher.cancel()
    assert peak == 600
    assert [r.outcome for r in results.values()] == [TIMEOUT] * 600


@pytest.mark.anyio
async def test_no_proxy_is_used_even_when_the_environment_names_one(monkeypatch: pytest.MonkeyPatch) -> None:
    dead_proxy = f"http://{new_address()}:9"  # nothing listens there: any proxied request fails
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    address = new_address()
    async with NodeListeners() as lab:
        await lab.start([ListenerSpec(address, PORT, HEALTHY), ListenerSpec(address, PORT + 1, Http(tls=True))])
        results = await run_probes(
            [ProbeTarget(address, PORT, "Http", "/healthz"), ProbeTarget(address, PORT + 1, "Https", "/")]
        )
    assert [(r.outcome, r.status) for r in results.values()] == [(OK, 200), (HTTP_STATUS, 404)]


# --- the runner never raises for a target --------------------------------------------------------


@pytest.mark.anyio
async def test_a_bug_in_one_probe_costs_one_result(monkeypatch: pytest.MonkeyPatch) -> None:
    import akslbctl.probing.tcp as tcp

    async def broken(target: ProbeTarget, timeout: float) -> ProbeResult:
        raise RuntimeError("boom")

    monkeypatch.setattr(tcp, "probe_tcp", broken)
    address = new_address()
    async with NodeListeners() as lab:
        await lab.start([ListenerSpec(address, PORT, HEALTHY)])
        good = ProbeTarget(address, PORT, "Http", "/healthz")
        bad = ProbeTarget(address, PORT, "Tcp")
        results = await run_probes([bad, good])
    assert results[good].outcome == OK
    assert results[bad].outcome == BAD_RESPONSE
    assert results[bad].error == "internal error: RuntimeError: boom"


@pytest.mark.anyio
async def test_unknown_protocol_is_a_result_not_an_exception() -> None:
    target = ProbeTarget(new_address(), PORT, "Udp")
    result = (await run_probes([target]))[target]
    assert result.outcome == BAD_RESPONSE and "Udp" in result.error


@pytest.mark.anyio
async def test_empty_round() -> None:
    assert await run_probes([]) == {}


def test_probe_all_from_synchronous_code() -> None:
    # A kernel-level listener: the handshake completes without anybody accepting.
    address = new_address()
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # earlier runs leave TIME_WAIT
        listener.bind((address, PORT))
        listener.listen(8)
        served = threading.Event()

        def answer_once() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + kube_proxy_body(1))
            served.set()

        thread = threading.Thread(target=answer_once, daemon=True)
        thread.start()
        http = ProbeTarget(address, PORT, "Http", "/healthz")
        refused = ProbeTarget(address, PORT + 1, "Tcp")
        results = probe_all([http, refused], timeout=2.0)
        thread.join(5)
    assert served.is_set()
    assert (results[http].outcome, results[http].local_endpoints) == (OK, 1)
    assert results[refused].outcome == REFUSED


# --- the lab itself -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_lab_stop_closes_everything() -> None:
    address = new_address()
    target = ProbeTarget(address, PORT, "Tcp")
    lab = NodeListeners()
    await lab.start([ListenerSpec(address, PORT, HEALTHY), ListenerSpec(address, PORT + 1, Blackhole())])
    assert (await run_probes([target]))[target].outcome == OK
    await lab.stop()
    assert (await run_probes([target]))[target].outcome == REFUSED
    blackhole = ProbeTarget(address, PORT + 1, "Tcp")
    assert (await run_probes([blackhole], timeout=FAIL_TIMEOUT))[blackhole].outcome == REFUSED


@pytest.mark.anyio
@pytest.mark.parametrize(
    "behaviour",
    [Sequence(()), Sequence((Closed(),)), Sequence((HEALTHY, Blackhole())), Sequence((Sequence((HEALTHY,)),))],
    ids=["empty", "closed-step", "blackhole-step", "nested"],
)
async def test_lab_refuses_sequences_whose_steps_accept_nothing(behaviour: Behaviour) -> None:
    async with NodeListeners() as lab:
        with pytest.raises(ValueError):
            await lab.start([ListenerSpec(new_address(), PORT, behaviour)])


@pytest.mark.anyio
async def test_lab_starts_ten_thousand_listeners() -> None:
    """How fast is a benchmark figure (benchmarks/lab_build_bench.py), not asserted here."""
    if raise_nofile_limit(12_000) < 12_000:
        pytest.skip("RLIMIT_NOFILE hard limit below 12,000")
    nodes = [f"127.43.{i // 250}.{i % 250 + 1}" for i in range(5000)]
    specs = [ListenerSpec(a, port, HEALTHY) for a in nodes for port in (PORT, 10256)]
    async with NodeListeners() as lab:
        await lab.start(specs)
        sample = [ProbeTarget(nodes[i], port, "Http", "/healthz") for i in (0, 2500, 4999) for port in (PORT, 10256)]
        results = await run_probes(sample)
    assert all(r.outcome == OK for r in results.values())


def test_local_address_for() -> None:
    assert local_address_for("127.42.200.1") == "127.0.0.1"
    assert local_address_for("not an address") is None


@pytest.mark.anyio
@pytest.mark.parametrize(("protocol", "outcome"), [("Tcp", "ok"), ("Http", "reset"), ("Https", "tls-error")])
async def test_an_accept_then_reset_node_gets_one_outcome_every_time(protocol, outcome) -> None:
    """A node that accepts and resets at once: ``Tcp`` completed the handshake (``ok``), ``Http`` is
    ``reset``, ``Https`` had its TLS handshake cut short (``tls-error``) — every time, whether the RST
    arrives before the prober looks at the connect or a moment later."""
    import struct

    host = new_address()
    server = socket.socket()
    server.bind((host, 0))
    server.listen(64)
    port = server.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        outcomes = set()
        for _ in range(40):
            target = ProbeTarget(host, port, protocol, None if protocol == "Tcp" else "/")
            outcomes.add((await run_probes([target], timeout=2))[target].outcome)
    finally:
        server.close()
    assert outcomes == {outcome}


@pytest.mark.anyio
async def test_targets_no_probe_may_be_sent_to_get_no_result() -> None:
    bad = [
        ProbeTarget("0.0.0.0", PORT, "Tcp"),
        ProbeTarget("localhost", PORT, "Tcp"),
        ProbeTarget("169.254.169.254", 80, "Http", "/"),
        ProbeTarget(new_address(), 0, "Tcp"),
        ProbeTarget(new_address(), 70000, "Https", "/"),
        ProbeTarget(new_address(), PORT, "Http", "/x\r\nX-Injected: 1"),
    ]
    assert await run_probes(bad, timeout=1) == {}
