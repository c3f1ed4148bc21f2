"""probe_http through httpx's own transport served by respx: verdicts, health bodies, errors."""

from __future__ import annotations

import asyncio
import errno
import json
import ssl
import time

import httpx
import pytest
import respx

from akslbctl.model.probe import (
    BAD_RESPONSE,
    HTTP_STATUS,
    OK,
    REFUSED,
    RESET,
    TIMEOUT,
    TLS_ERROR,
    UNREACHABLE,
    ProbeTarget,
)
from akslbctl.probing.http import body_excerpt, classify_http_error, parse_health_body, probe_http

NODE = "10.224.0.4"
HEALTH = ProbeTarget(NODE, 32001, "Http", "/healthz")
HEALTH_URL = f"http://{NODE}:32001/healthz"

KUBE_PROXY_OK = {
    "service": {"namespace": "default", "name": "web"},
    "localEndpoints": 2,
    "serviceProxyHealthy": True,
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def probe(target: ProbeTarget = HEALTH, *, timeout: float = 5.0, body_cap: int = 4096):
    async with httpx.AsyncHTTPTransport() as transport:
        return await probe_http(transport, target, timeout, body_cap)


@pytest.mark.anyio
async def test_200_with_kube_proxy_body_is_ok_with_local_endpoints(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(HEALTH_URL).mock(return_value=httpx.Response(200, json=KUBE_PROXY_OK))
    result = await probe()
    assert result.outcome == OK
    assert result.up is True
    assert result.status == 200
    assert result.local_endpoints == 2
    assert result.service_proxy_healthy is True
    assert result.node_eligible is None
    assert result.body_excerpt is None and result.error is None
    assert result.latency_ms is not None and result.latency_ms >= 0
    assert result.at is not None and result.at.endswith("Z") and "T" in result.at


@pytest.mark.anyio
async def test_503_with_zero_local_endpoints_is_http_status(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(HEALTH_URL).mock(return_value=httpx.Response(503, json={"localEndpoints": 0}))
    result = await probe()
    assert result.outcome == HTTP_STATUS
    assert result.up is False
    assert result.status == 503
    assert result.local_endpoints == 0
    assert result.service_proxy_healthy is None
    assert result.body_excerpt == '{"localEndpoints":0}'
    assert result.error == "HTTP 503"


@pytest.mark.anyio
@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_redirect_is_http_status_and_not_followed(respx_mock: respx.MockRouter, status: int) -> None:
    respx_mock.get(HEALTH_URL).mock(
        return_value=httpx.Response(status, headers={"Location": f"http://{NODE}:32001/elsewhere"})
    )
    elsewhere = respx_mock.get(f"http://{NODE}:32001/elsewhere").mock(return_value=httpx.Response(200))
    result = await probe()
    assert result.outcome == HTTP_STATUS
    assert result.status == status
    assert elsewhere.called is False


@pytest.mark.anyio
async def test_redirect_not_followed(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(HEALTH_URL).mock(return_value=httpx.Response(302, headers={"Location": "/ok"}))
    target = respx_mock.get(f"http://{NODE}:32001/ok").mock(return_value=httpx.Response(200))
    async with httpx.AsyncHTTPTransport() as transport:
        result = await probe_http(transport, HEALTH, 5.0)
    assert (result.outcome, result.status, target.called) == (HTTP_STATUS, 302, False)


@pytest.mark.anyio
async def test_404_from_a_default_backend(respx_mock: respx.MockRouter) -> None:
    target = ProbeTarget(NODE, 31380, "Http", "/")
    respx_mock.get(f"http://{NODE}:31380/").mock(
        return_value=httpx.Response(404, text="default backend - 404", headers={"Content-Type": "text/plain"})
    )
    result = await probe(target)
    assert (result.outcome, result.status) == (HTTP_STATUS, 404)
    assert result.body_excerpt == "default backend - 404"
    assert result.local_endpoints is None


@pytest.mark.anyio
async def test_200_with_invalid_json_is_ok_without_fields(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(HEALTH_URL).mock(return_value=httpx.Response(200, content=b'{"localEndpoints": 1,'))
    result = await probe()
    assert result.outcome == OK
    assert (result.local_endpoints, result.service_proxy_healthy, result.node_eligible) == (None, None, None)


@pytest.mark.anyio
async def test_cilium_body_without_service_proxy_healthy_gives_none_not_false(respx_mock: respx.MockRouter) -> None:
    body = b'{"service":{"namespace":"default","name":"web"},"localEndpoints":1}\n'
    respx_mock.get(HEALTH_URL).mock(return_value=httpx.Response(200, content=body))
    result = await probe()
    assert result.outcome == OK
    assert result.local_endpoints == 1
    assert result.service_proxy_healthy is None
    assert result.node_eligible is None


@pytest.mark.anyio
async def test_explicit_false_fields_stay_false(respx_mock: respx.MockRouter) -> None:
    body = {"localEndpoints": 3, "serviceProxyHealthy": False, "nodeEligible": False}
    respx_mock.get(HEALTH_URL).mock(return_value=httpx.Response(503, json=body))
    result = await probe()
    assert result.outcome == HTTP_STATUS
    assert (result.local_endpoints, result.service_proxy_healthy, result.node_eligible) == (3, False, False)


@pytest.mark.anyio
async def test_shared_probe_body_node_eligible(respx_mock: respx.MockRouter) -> None:
    body = {"lastUpdated": "2025-01-01T00:00:00Z", "currentTime": "2025-01-01T00:00:01Z", "nodeEligible": True}
    respx_mock.get(f"http://{NODE}:10256/healthz").mock(return_value=httpx.Response(200, json=body))
    result = await probe(ProbeTarget(NODE, 10256, "Http", "/healthz"))
    assert (result.outcome, result.node_eligible, result.local_endpoints) == (OK, True, None)


@pytest.mark.anyio
async def test_body_is_read_only_up_to_the_cap(respx_mock: respx.MockRouter) -> None:
    # A valid document whose closing brace lies past the cap: truncated, it is no JSON any more.
    doc = json.dumps({"padding": "x" * 5000, "localEndpoints": 4}).encode()
    respx_mock.get(HEALTH_URL).mock(return_value=httpx.Response(200, content=doc))
    assert (await probe(body_cap=4096)).local_endpoints is None
    assert (await probe(body_cap=8192)).local_endpoints == 4


@pytest.mark.anyio
async def test_ten_megabyte_non_utf8_body_never_raises(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(HEALTH_URL).mock(return_value=httpx.Response(500, content=b"\xff\xfe\x00\x01" * (10 << 18)))
    result = await probe()
    assert result.outcome == HTTP_STATUS and result.status == 500
    assert result.local_endpoints is None
    assert result.body_excerpt is not None and len(result.body_excerpt) <= 200
    assert result.body_excerpt.isprintable()


@pytest.mark.anyio
async def test_path_defaults_to_root_and_gets_a_leading_slash(respx_mock: respx.MockRouter) -> None:
    root = respx_mock.get(f"http://{NODE}:30080/").mock(return_value=httpx.Response(200))
    health = respx_mock.get(f"http://{NODE}:30080/healthz").mock(return_value=httpx.Response(200))
    assert (await probe(ProbeTarget(NODE, 30080, "Http"))).outcome == OK
    assert (await probe(ProbeTarget(NODE, 30080, "Http", "healthz"))).outcome == OK
    assert root.call_count == 1 and health.call_count == 1


@pytest.mark.anyio
async def test_https_target_requests_https(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(f"https://{NODE}:30443/ready").mock(return_value=httpx.Response(200))
    result = await probe(ProbeTarget(NODE, 30443, "Https", "/ready"))
    assert result.outcome == OK and route.called


@pytest.mark.anyio
async def test_ipv6_node_address(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get("http://[fd00::4]:32001/healthz").mock(return_value=httpx.Response(200))
    result = await probe(ProbeTarget("fd00::4", 32001, "Http", "/healthz"))
    assert result.outcome == OK and route.called


# respx re-raises a side effect's exception from its own wrapper, so the OSError that a real
# transport chains is lost; what remains is the exception type and the message httpcore writes.
@pytest.mark.anyio
@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), REFUSED),
        (httpx.ConnectError("[Errno 101] Network is unreachable"), UNREACHABLE),
        (httpx.ConnectError("[Errno 113] No route to host"), UNREACHABLE),
        (httpx.ConnectError("[Errno 99] Cannot assign requested address"), UNREACHABLE),
        (httpx.ConnectError("[Errno 104] Connection reset by peer"), RESET),
        (httpx.ConnectError("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"), TLS_ERROR),
        (httpx.ConnectError("All connection attempts failed"), UNREACHABLE),
        (httpx.ConnectTimeout("timed out"), TIMEOUT),
        (httpx.ReadTimeout("timed out"), TIMEOUT),
        (httpx.ReadError("[Errno 104] Connection reset by peer"), RESET),
        (httpx.ReadError(""), RESET),
        (httpx.RemoteProtocolError("illegal status line: bytearray(b'SSH-2.0')"), BAD_RESPONSE),
    ],
    ids=lambda v: f"{type(v).__name__}:{v}"[:40] if isinstance(v, BaseException) else str(v),
)
async def test_transport_errors_are_classified(respx_mock: respx.MockRouter, exc: BaseException, outcome: str) -> None:
    respx_mock.get(HEALTH_URL).mock(side_effect=exc)
    result = await probe()
    assert result.outcome == outcome
    assert result.status is None
    assert result.error
    assert result.at is not None


def _chained(exc: BaseException, cause: BaseException) -> BaseException:
    try:
        raise exc from cause
    except BaseException as raised:
        return raised


@pytest.mark.parametrize(
    ("cause", "outcome"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), REFUSED),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), UNREACHABLE),
        (OSError(errno.EHOSTUNREACH, "No route to host"), UNREACHABLE),
        (OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address"), UNREACHABLE),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), RESET),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), TLS_ERROR),
        (TimeoutError("timed out"), TIMEOUT),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_chained_cause_decides_over_the_message(cause: BaseException, outcome: str) -> None:
    # NodeTransport and httpcore chain the socket error; the message here says nothing useful.
    exc = _chained(httpx.ConnectError("connect failed"), cause)
    assert classify_http_error(exc)[0] == outcome


def test_classifier_survives_a_cyclic_cause_chain() -> None:
    a = httpx.ConnectError("a")
    b = RuntimeError("b")
    a.__cause__, b.__cause__ = b, a
    assert classify_http_error(a)[0] == UNREACHABLE


@pytest.mark.anyio
async def test_whole_probe_deadline_bounds_a_server_that_never_answers(respx_mock: respx.MockRouter) -> None:
    async def never(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200)

    respx_mock.get(HEALTH_URL).mock(side_effect=never)
    started = time.perf_counter()
    result = await probe(timeout=0.2)
    elapsed = time.perf_counter() - started
    assert result.outcome == TIMEOUT  # the server would answer after 30 s: the probe's timeout ended it
    assert result.error == "no complete answer within 0.2 s"
    assert elapsed >= 0.19


def test_parse_health_body_edge_cases() -> None:
    assert parse_health_body(b"") == (None, None, None)
    assert parse_health_body(b"[1, 2]") == (None, None, None)
    assert parse_health_body(b"[" * 5000) == (None, None, None)  # deep nesting: no RecursionError
    assert parse_health_body(b'{"localEndpoints": true}') == (None, None, None)  # a bool is no count
    assert parse_health_body(b'{"localEndpoints": "2"}') == (None, None, None)
    assert parse_health_body(b'{"localEndpoints": 1' + b"0" * 5000 + b"}") == (None, None, None)
    assert parse_health_body('{"localEndpoints": 7}'.encode("utf-16")) == (7, None, None)
    assert parse_health_body(b'{"serviceProxyHealthy": "true"}') == (None, None, None)


def test_body_excerpt_is_short_and_printable() -> None:
    assert body_excerpt(b"") is None
    assert body_excerpt(b"  line one\r\n\tline two\x00\x07 ") == "line one line two"
    assert len(body_excerpt(b"a" * 10_000)) == 200
