"""The HTTP probe writes its GET itself (no httpx.Request per node, issue 14): the bytes must be the
ones httpx would have sent, and any path httpx would encode or refuse goes through httpx instead."""

from __future__ import annotations

import httpx
import pytest

from akslbctl.model.probe import ProbeTarget
from akslbctl.probing.http import PROBE_HEADERS, _probe_url, _raw_request, _serialize


@pytest.mark.anyio
@pytest.mark.parametrize(
    "target",
    [
        ProbeTarget("10.224.0.4", 32700, "Http", "/healthz"),
        ProbeTarget("10.224.0.4", 80, "Http", "/"),
        ProbeTarget("10.224.0.4", 443, "Https", "/ready"),
        ProbeTarget("10.224.0.4", 8443, "Https", "/ready"),
        ProbeTarget("fd12:3456::4", 10256, "Http", "/healthz"),
        ProbeTarget("10.224.0.4", 31380, "Http", None),
        ProbeTarget("10.224.0.4", 31380, "Http", "healthz"),
        ProbeTarget("10.224.0.4", 31380, "Http", "/status?full=1&x=%2F"),
    ],
)
async def test_raw_request_is_what_httpx_sends(target: ProbeTarget) -> None:
    expected = await _serialize(httpx.Request("GET", _probe_url(target), headers=PROBE_HEADERS))
    assert _raw_request(target) == expected


@pytest.mark.parametrize("path", ["/a b", "/x\r\nX-Injected: 1", "/ü", "/%zz", "/a#frag", '/"q"'])
def test_paths_httpx_must_handle_are_left_to_it(path: str) -> None:
    assert _raw_request(ProbeTarget("10.224.0.4", 31380, "Http", path)) is None
