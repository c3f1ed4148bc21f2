"""explain --tree at 80 and 120 columns, and the pictures for tickets (--svg, --png): the real CLI
against the lab, the files written through the one safe writer."""

from __future__ import annotations

import re

import pytest
from support import cli

NODES = [f"aks-nodepool1-12345678-vmss00000{i}" for i in range(3)]


def _cells(line: str) -> int:
    from rich.cells import cell_len

    return cell_len(line)


def _hangs(lines: list[str], head: str) -> list[str]:
    """The lines of the paragraph that starts with ``head``: its first line and those indented under it."""
    start = next(i for i, line in enumerate(lines) if line.startswith(head))
    out = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith(" " * len(head)) or not line.strip():
            break
        out.append(line)
    return out


# -- the tree ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [80, 120])
def test_tree_shows_azures_view_the_vantage_and_the_footer_within_the_width(lab, monkeypatch, columns):
    lab("nsg-blocks-probe")  # Azure says down where our probes succeed: the vantage matters
    monkeypatch.setenv("COLUMNS", str(columns))
    result = cli("explain", "svc/web", "--tree")
    assert result.exit_code == 1, result.stderr
    lines = result.stdout.splitlines()
    assert [line for line in lines if _cells(line) > columns] == []
    for node in NODES:
        assert any(f"● {node}  down" in line for line in lines), node
    assert result.stdout.count("Azure says: down: TCP probe timed out") == 3
    vantage = _hangs(lines, "Probes   ")
    assert vantage[0].startswith("Probes   sent from 127.0.0.1 (this machine); Azure probes from 168.63.129.16")
    assert " ".join(x.strip() for x in vantage).endswith("may treat differently")
    assert lines[-1] == "DARK: no node is up for the LB on Tcp 80."
    # Findings hang under their head, as in explain's table: no continuation line starts at column 0.
    finding = _hangs(lines, "  ✖ nsg-blocks-probe  ")
    assert len(finding) > 1 and finding[-1].endswith("below the deny.")
    message = " ".join(x.strip() for x in finding)
    assert "DenyAzureLoadBalancerInBound (priority 400, Deny) denies 168.63.129.16" in message


def test_tree_at_80_columns_puts_azures_words_on_a_line_of_their_own(lab, monkeypatch):
    lab("hanging-health")
    monkeypatch.setenv("COLUMNS", "80")
    result = cli("explain", "svc/web", "--tree", "--timeout", "0.5")
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.endswith(f"● {NODES[1]}  down"))
    assert lines[at + 1].endswith("  Azure says: down: no HTTP response")
    assert re.search(r"│     GET :32650/healthz: no answer in time", lines[at + 2])
    assert re.search(r"^\s+│     kube-proxy or a firewall is not answering$", lines[at + 3])  # the detail hangs
    monkeypatch.setenv("COLUMNS", "120")
    wide = cli("explain", "svc/web", "--tree", "--timeout", "0.5").stdout.splitlines()
    assert any(line.endswith(f"● {NODES[1]}  down  Azure says: down: no HTTP response") for line in wide)


def test_tree_says_when_azures_view_is_unavailable(lab):
    lab("rule-health-forbidden")
    result = cli("explain", "svc/web", "--tree")
    assert result.exit_code == 0, result.stderr
    assert "Azure says" not in result.stdout
    assert "note: Azure's own view (rule health) is unavailable: missing permission" in result.stdout
    assert "Probes   sent from 127.0.0.1" in result.stdout  # nothing to compare with: the vantage is said
    assert result.stdout.splitlines()[-1] == "3 of 3 pool members up for the LB on every rule."
