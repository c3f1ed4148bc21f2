"""The command line's declarations: the options and arguments the commands share, as typer reads them.

Only the typer application (:mod:`akslbctl.cli.app`) imports this module. The command modules name
these declarations in their (string) annotations and import them for type checkers only, so that a
command line akslbctl parses itself (:mod:`akslbctl.cli.fast`) runs the command without loading typer.
"""

from __future__ import annotations

from typing import Annotated

import typer

from akslbctl.cli.durations import duration

Resource = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="svc/NAME", help="The Service: svc/NAME, service/NAME, 'svc NAME' or NAME.", show_default=False
    ),
]
Namespace = Annotated[
    str | None,
    typer.Option("--namespace", "-n", metavar="NAMESPACE", help="Namespace (default: the context's)."),
]
Context = Annotated[
    str | None, typer.Option("--context", metavar="CONTEXT", help="kubeconfig context (default: current).")
]
Kubeconfig = Annotated[
    str | None,
    typer.Option("--kubeconfig", metavar="FILE", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)."),
]
Subscription = Annotated[
    str | None,
    typer.Option("--subscription", metavar="ID", help="Azure subscription id (default: from a Node's providerID)."),
]
ResourceGroup = Annotated[
    str | None,
    typer.Option(
        "--resource-group", "-g", metavar="GROUP", help="Node resource group MC_… (default: from a Node's providerID)."
    ),
]
ArmEndpoint = Annotated[
    str | None,
    typer.Option(
        "--arm-endpoint", metavar="URL", help="ARM endpoint (default: $AKSLBCTL_ARM_ENDPOINT, management.azure.com)."
    ),
]
RequestTimeout = Annotated[
    float,
    typer.Option(
        "--request-timeout",
        metavar="DURATION",
        parser=duration(0.1),
        help="How long to wait for each Kubernetes/ARM request (5s, 500ms; a plain number is seconds).",
    ),
]
Debug = Annotated[bool, typer.Option("--debug", help="Log request lines and statuses to stderr (never tokens).")]
DeadlineSeconds = Annotated[
    float,
    typer.Option(
        "--deadline",
        metavar="DURATION",
        parser=duration(0.1),
        help="How long the whole command may take, every request and probe included; exit 3 when it passes.",
    ),
]
CaseFile = Annotated[
    str | None,
    typer.Option(
        "--filename",
        "-f",
        metavar="FILE",
        help="Analyse offline: a case file (akslbctl capture) or a folder of raw kubectl/az -o json dumps.",
    ),
]
ProviderVersion = Annotated[
    str | None,
    typer.Option(
        "--provider-version", metavar="VERSION", help="Assume this cloud-provider-azure version (e.g. v1.24.10)."
    ),
]
NoAzureHealth = Annotated[
    bool,
    typer.Option("--no-azure-health", help="Do not ask ARM's rule-health operation for Azure's own view."),
]


def probe_timeout(help_text: str = "How long each probe may take, as a whole (5s, 500ms; plain: seconds)."):
    """``--timeout``: per probe, a duration as kubectl's ``--timeout`` takes it."""
    return typer.Option("--timeout", metavar="DURATION", parser=duration(0.05), help=help_text)


def output_option(formats: tuple[str, ...], help_text: str | None = None):
    """``-o, --output FORMAT`` (also ``-o=json`` and ``--output=json``, as kubectl takes them)."""
    listed = ", ".join(formats[:-1]) + f" or {formats[-1]}"
    return typer.Option("--output", "-o", metavar="FORMAT", help=help_text or f"{listed}.")


def declared(command):
    """``command`` with its annotations evaluated against these declarations, for typer to read.

    A command module names the declarations in string annotations and imports them only for type
    checkers; typer evaluates annotations in the function's own module, so they are evaluated here,
    once, with this module's names added — exactly what ``inspect.signature(eval_str=True)`` would do.
    """
    import sys

    namespace = {**globals(), **vars(sys.modules[command.__module__])}
    command.__annotations__ = {
        name: eval(value, namespace) if isinstance(value, str) else value  # noqa: S307 — our own annotations
        for name, value in command.__annotations__.items()
    }
    return command
