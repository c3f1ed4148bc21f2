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


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    return "".join(ch for ch in heading.strip().lower().replace(" ", "-") if ch.isalnum() or ch in "-_")


def _anchors(page: Path) -> set[str]:
    import re

    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_links_stay_in_the_repository_and_land():
    """Docs are self-contained: every relative link names a file of the repository (and a heading of
    it, for ``page.md#anchor``); nothing cites a page that does not ship."""
    import re

    broken = []
    for page in _pages():
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists() or ROOT not in dest.parents:
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_the_contract_ships_with_the_docs():
    contract = ROOT / "docs" / "contract.md"
    assert contract.read_text(encoding="utf-8").startswith("# akslbctl's public contract")
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        for name in ("aks-lb-rules.md", "probe-semantics.md", "field-cases.md", "cli-conventions.md"):
            assert name not in text, f"{page.relative_to(ROOT)} cites {name}, which is not in the repository"
