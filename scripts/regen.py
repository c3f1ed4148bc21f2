"""Regenerate the files that follow the command line, or check that they are current.

    python scripts/regen.py            # rewrite them
    python scripts/regen.py --check    # exit 1 and name the stale ones (what the tests check)

- akslbctl/cli/_spec.py       commands, options and value kinds for shell completion (from the Typer app)
- akslbctl/cli/_help.py       --help texts, answered before typer loads
- completions/akslbctl.*      the bash, zsh, fish and PowerShell scripts (akslbctl completion SHELL)
- completions/kubectl_complete-aks_lb   kubectl's plugin-completion helper
- docs/reference.md           the command reference (the text of --help, per command)
- akslbctl/_record_inits.py   every @record class's __init__, compiled ahead (akslbctl.records)

Run it after adding or changing a command, an option or its help text.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def generated() -> dict[Path, str]:
    """Every generated file and the text it should have now."""
    from akslbctl.cli import shells, specgen

    files = {
        ROOT / "akslbctl" / "cli" / "_spec.py": specgen.render_spec(),
        ROOT / "akslbctl" / "cli" / "_help.py": specgen.render_help(),
        ROOT / "docs" / "reference.md": specgen.render_reference(),
        ROOT / "completions" / shells.KUBECTL_HELPER: shells.kubectl_helper(),
    }
    for shell, name in shells.SCRIPT_FILES.items():
        files[ROOT / "completions" / name] = shells.script(shell)
    files[ROOT / "akslbctl" / "_record_inits.py"] = record_inits()
    return files


def record_inits() -> str:
    """akslbctl/_record_inits.py: every module of the package imported, then its records' __init__s."""
    import importlib
    import pkgutil

    import akslbctl
    from akslbctl import records

    for info in pkgutil.walk_packages(akslbctl.__path__, "akslbctl."):
        if info.name not in ("akslbctl.__main__", "akslbctl._record_inits"):
            importlib.import_module(info.name)
    return records.render_ahead()


def stale() -> list[Path]:
    out = []
    for path, text in generated().items():
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when a file is stale")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.check:
        old = stale()
        for path in old:
            print(f"stale: {path.relative_to(ROOT)}")
        return 1 if old else 0
    for path, text in generated().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        previous = path.read_text(encoding="utf-8") if path.exists() else None
        if previous != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
        if path.name.startswith("kubectl_complete-"):
            os.chmod(path, 0o755)
    return 0


if __name__ == "__main__":
    sys.exit(main())
