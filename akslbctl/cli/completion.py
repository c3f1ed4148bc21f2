"""``akslbctl completion SHELL``: print the shell's completion script (the scripts call ``__complete``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from akslbctl.cli.common import term
from akslbctl.errors import ExitCode, UsageError

if TYPE_CHECKING:  # what typer reads in the annotations (akslbctl.cli.params.declared)
    from typing import Annotated

    import typer


def completion(
    shell: Annotated[str, typer.Argument(metavar="SHELL", help="bash, zsh, fish or powershell.", show_default=False)],
) -> int:
    """Print the completion script for bash, zsh, fish or PowerShell (see 'Shell completion' in the user guide)."""
    from akslbctl.cli.shells import SHELLS, script

    if shell not in SHELLS:
        raise UsageError(f"no completion for shell {shell!r}", hint=f"use one of {', '.join(SHELLS)}")
    term().stdout.write(script(shell))
    return ExitCode.OK
