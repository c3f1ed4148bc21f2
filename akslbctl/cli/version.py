"""``akslbctl version`` (and ``--version``): which akslbctl this is, with Python's and the client
libraries' versions for a bug report (``-o json``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from akslbctl import __version__
from akslbctl.cli.common import term
from akslbctl.errors import ExitCode

if TYPE_CHECKING:  # what typer reads in the annotations (akslbctl.cli.params.declared)
    from typing import Annotated

    from akslbctl.cli.params import output_option


VERSION_OUTPUTS = ("text", "json", "yaml")


def version(
    output: Annotated[str, output_option(VERSION_OUTPUTS, "text, json or yaml.")] = "text",
) -> int:
    """Print akslbctl's version (and Python's, and the client libraries')."""
    from akslbctl.cli.common import output_format, write_document

    output = output_format(output, VERSION_OUTPUTS)
    if output == "text":
        term().stdout.write(f"akslbctl {__version__}\n")
        return ExitCode.OK
    write_document(version_doc(), output)
    return ExitCode.OK


def version_doc() -> dict:
    """``{"apiVersion", "kind": "Version", "version", "python", "libraries": {name: version}}``."""
    import platform
    from importlib import metadata

    libraries = {}
    for name in ("kubernetes", "azure-mgmt-network", "azure-identity", "httpx", "typer", "rich"):
        try:
            libraries[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            libraries[name] = None
    return {
        "apiVersion": "akslbctl/v1alpha1",
        "kind": "Version",
        "version": __version__,
        "python": platform.python_version(),
        "libraries": libraries,
    }
