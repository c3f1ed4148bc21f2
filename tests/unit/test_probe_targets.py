"""What may be probed: node addresses and probe fields that no probe is sent to (issue 13 §8)."""

from __future__ import annotations

import pytest

from akslbctl.model.probe import ProbeTarget, address_problem, target_problem


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("0", "not an IP address"),  # connect() would take it for 0.0.0.0
        ("0.1.2.3", "this network"),
        ("localhost", "not an IP address"),
        ("aks-node-1.internal", "not an IP address"),
        (" 10.0.0.4", "not an IP address"),
        ("10.0.0.4\naks-forged", "not an IP address"),
        ("169.254.169.254", "link-local"),
        ("169.254.0.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("::ffff:0.0.0.0", "unspecified"),
        ("::ffff:169.254.169.254", "link-local"),
        ("", "no address"),
    ],
)
def test_addresses_that_are_no_node_are_flagged(address, says):
    problem = address_problem(address)
    assert problem is not None and says in problem


@pytest.mark.parametrize("address", ["10.240.0.4", "127.0.0.1", "127.249.0.5", "::1", "fd00::4", "2001:db8::4"])
def test_node_addresses_pass(address):
    assert address_problem(address) is None


@pytest.mark.parametrize(
    ("target", "says"),
    [
        (ProbeTarget("10.0.0.4", 0, "Tcp"), "not a TCP port"),
        (ProbeTarget("10.0.0.4", 65536, "Tcp"), "not a TCP port"),
        (ProbeTarget("10.0.0.4", -1, "Http", "/"), "not a TCP port"),
        (ProbeTarget("10.0.0.4", 80, "Http", "/healthz\r\nX-Injected: 1"), "one line"),
        (ProbeTarget("10.0.0.4", 80, "Https", "/a b"), "one line"),
        (ProbeTarget("10.0.0.4", 80, "Http", "/\x00"), "one line"),
        (ProbeTarget("10.0.0.4", 80, "Http", "/\u202e"), "one line"),
        (ProbeTarget("10.0.0.4", 80, "Http", "/" + "a" * 5000), "characters long"),
        (ProbeTarget("0.0.0.0", 80, "Tcp"), "node address"),
    ],
)
def test_targets_that_cannot_be_sent_say_why(target, says):
    problem = target_problem(target)
    assert problem is not None and says in problem


@pytest.mark.parametrize(
    "target",
    [
        ProbeTarget("10.0.0.4", 1, "Tcp"),
        ProbeTarget("10.0.0.4", 65535, "Tcp"),
        ProbeTarget("10.0.0.4", 10256, "Http", "/healthz?x=1&y=%20"),
        ProbeTarget("10.0.0.4", 443, "Https", "/ünïcode"),
        ProbeTarget("10.0.0.4", 80, "Tcp", "ignored \r\n for Tcp"),
    ],
)
def test_targets_the_lb_can_probe_pass(target):
    assert target_problem(target) is None
