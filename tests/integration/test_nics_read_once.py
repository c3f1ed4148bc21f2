"""The scale sets' NICs are normalised once per explain (issue 14): the network path's reading and the
case share the result. What a NIC that does not parse costs stays as it was: a note when it is not
the Service's, said once."""

from __future__ import annotations

import copy
from collections import Counter

from support import cli

from akslbctl.errors import ExitCode
from akslbctl.lab.scenarios import build
from akslbctl.sources import normalize


def _counting(monkeypatch) -> Counter:
    seen: Counter = Counter()
    real = normalize.network_interface

    def counted(doc, path="NetworkInterface"):
        seen[str(doc.get("id") if isinstance(doc, dict) else doc)] += 1
        return real(doc, path)

    monkeypatch.setattr(normalize, "network_interface", counted)
    return seen


def test_each_nic_is_normalised_once(lab, monkeypatch):
    cluster = build("local-http")
    running = lab(cluster)
    seen = _counting(monkeypatch)
    result = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert sorted(seen) == sorted(n["id"] for n in running.cluster.nics)
    assert set(seen.values()) == {1}


def test_a_nic_that_does_not_parse_is_read_again_and_noted_once(lab, monkeypatch):
    cluster = build("local-http")
    odd = copy.deepcopy(cluster.nics[0])
    odd["id"] = odd["id"].replace("/virtualMachines/0/", "/virtualMachines/7/")
    odd["properties"]["networkSecurityGroup"] = 5  # an object, in ARM
    cluster.nics.append(odd)
    lab(cluster)
    seen = _counting(monkeypatch)
    result = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert seen[odd["id"]] == 2  # the path's lenient reading, then the case's, which notes it
    notes = [n for n in result.json["notes"] if "NetworkInterface" in n and "skipped" in n]
    assert len(notes) == 1 and "not this Service's" in notes[0]
    others = [v for k, v in seen.items() if k != odd["id"]]
    assert others and set(others) == {1}
