"""The user guide's screens are what akslbctl prints: the node tables with their AZURE SAYS column, run
against the lab scenarios the guide names, at the width it names (100 columns)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import cli

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "user-guide.md"


def node_table(text: str) -> str:
    """From the ``NODE … AZURE SAYS`` header to the blank line that ends the table."""
    start = text.index("NODE ")
    end = text.index("\n\n", start)
    return text[start:end]


@pytest.mark.parametrize("scenario", ["laptop-azure-up", "nsg-nic-blocks-probe"])
def test_the_guide_shows_the_azure_says_column_as_it_prints(lab, monkeypatch, scenario):
    lab(scenario)
    monkeypatch.setenv("COLUMNS", "100")
    result = cli("explain", "svc/web", "--timeout", "1s")
    table = node_table(result.stdout)
    assert "AZURE SAYS" in table.splitlines()[0]
    assert table in GUIDE.read_text(encoding="utf-8"), f"docs/user-guide.md: the {scenario} sample is stale:\n{table}"
