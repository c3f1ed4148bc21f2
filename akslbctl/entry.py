"""Console entry points. Kept tiny: shell completion runs the program at every TAB, so the fast paths
here answer before typer, rich or any SDK is imported."""

from __future__ import annotations

import os
import sys

PLUGIN_PROG = "kubectl aks-lb"


def _prog_name() -> str:
    base = os.path.basename(sys.argv[0] or "")
    return PLUGIN_PROG if base.startswith("kubectl-aks_lb") else "akslbctl"


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    sys.exit(run(list(sys.argv[1:] if argv is None else argv), prog or _prog_name()))


def plugin_main() -> None:
    main(prog=PLUGIN_PROG)


def run(argv: list[str], prog: str = "akslbctl") -> int:
    from akslbctl.cli.app import run_cli

    return run_cli(argv, prog)
