"""The docs keep up with the code: a page per verdict reason and finding code, and the index lists it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REASONS = ROOT / "docs" / "reasons"


def finding_codes() -> set[str]:
    """Codes of every ``Finding(...)`` built in akslbctl: string literals and module constants."""
    codes = set()
    for path in (ROOT / "akslbctl").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = None
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Finding" and node.args):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                codes.add(first.value)
            elif isinstance(first, ast.Name):
                if module is None:
                    relative = path.relative_to(ROOT).with_suffix("")
                    module = importlib.import_module(".".join(relative.parts))
                codes.add(getattr(module, first.id))
    return codes


def reason_codes() -> set[str]:
    from akslbctl.analysis import fusion
    from akslbctl.model import probe, report

    outcomes = {v for k, v in vars(probe).items() if k.isupper() and isinstance(v, str) and v != probe.OK}
    fixed = {report.PROBE_OK, report.RULE_WITHOUT_PROBE, report.NOT_IN_BACKEND_POOL, report.NOT_PROBED}
    return outcomes | set(fusion.FUSION_REASONS) | fixed


def test_the_code_scan_finds_the_known_codes():
    codes = finding_codes()
    assert {"no-healthy-backend", "probe-mismatch", "lb-not-found", "azure-probe-disagreement"} <= codes


@pytest.mark.parametrize("code", sorted(finding_codes() | reason_codes()))
def test_every_code_has_a_page_listed_in_the_index(code):
    page = REASONS / f"{code}.md"
    assert page.exists(), f"docs/reasons/{code}.md is missing"
    assert page.read_text(encoding="utf-8").startswith(f"# `{code}`")
    assert f"[{code}]({code}.md)" in (REASONS / "README.md").read_text(encoding="utf-8")
