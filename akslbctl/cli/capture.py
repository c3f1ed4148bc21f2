"""``akslbctl capture``: write a case file that ``explain -f`` and ``diff -f`` analyse offline.

The customer's side of a support case in one command: the Service, Nodes, EndpointSlices, matched load
balancers and public IPs as the APIs returned them, plus one round of probe results, in one file the
support engineer can replay without access to the cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from akslbctl.cli.common import Connection, load_case, setup_logging, term
from akslbctl.errors import ExitCode, UsageError

if TYPE_CHECKING:  # what typer reads in the annotations (akslbctl.cli.params.declared)
    from typing import Annotated

    import typer

    from akslbctl.cli.params import (
        ArmEndpoint,
        Context,
        DeadlineSeconds,
        Debug,
        Kubeconfig,
        Namespace,
        NoAzureHealth,
        RequestTimeout,
        Resource,
        ResourceGroup,
        Subscription,
        probe_timeout,
    )


def capture(
    resource: Resource = None,
    namespace: Namespace = None,
    context: Context = None,
    kubeconfig: Kubeconfig = None,
    subscription: Subscription = None,
    resource_group: ResourceGroup = None,
    arm_endpoint: ArmEndpoint = None,
    filename: Annotated[
        str | None,
        typer.Option("--filename", "-f", metavar="FILE", help="The case file to write (e.g. case.json)."),
    ] = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Replace subscription and tenant ids, resource-group names and public IPs with consistent "
            "placeholders (the analysis stays the same).",
        ),
    ] = False,
    timeout: Annotated[float, probe_timeout()] = "5s",  # type: ignore[assignment]  # the parser makes it seconds
    no_probe: Annotated[bool, typer.Option("--no-probe", help="Record no probe results.")] = False,
    no_azure_health: NoAzureHealth = False,
    request_timeout: RequestTimeout = "10s",  # type: ignore[assignment]
    deadline: DeadlineSeconds = "120s",  # type: ignore[assignment]
    debug: Debug = False,
) -> int:
    """Write a case file: the Service's evidence, Azure's view and one round of probe results, for offline
    analysis."""
    from akslbctl import __version__
    from akslbctl.analysis.engine import analyse
    from akslbctl.azurehealth import AzureOptions
    from akslbctl.azurehealth import start as start_azure_fetch
    from akslbctl.deadline import Deadline
    from akslbctl.pipeline import AZURE_RESERVE
    from akslbctl.sources import casefile

    budget = Deadline.start(deadline)
    setup_logging(debug)
    if not filename:
        raise UsageError("capture needs the file to write", hint="pass -f FILE (for example: -f case.json)")
    if filename == "-":
        raise UsageError("capture writes a file, not stdout", hint="pass -f FILE (for example: -f case.json)")
    conn = Connection(kubeconfig, context, namespace, subscription, resource_group, arm_endpoint, request_timeout)
    case = load_case(resource, conn, command="capture", deadline=budget)
    captured_at = _now()
    analysis = analyse(case)
    # Azure's own view, asked while the probes run, as explain does (contract §5.1).
    wait = budget.bound(30.0, reserve=AZURE_RESERVE)
    azure = AzureOptions(enabled=not no_azure_health, endpoint=arm_endpoint, wait=wait)
    fetch = start_azure_fetch(case, analysis, azure)
    entries, source = ([], None) if no_probe else probe_round(case, timeout, deadline=budget, analysis=analysis)
    seen = fetch.result(timeout=budget.bound(wait + 10.0, reserve=AZURE_RESERVE)) if fetch is not None else None
    doc = casefile.case_document(
        case,
        probes=entries,
        captured_at=captured_at,
        akslbctl_version=__version__,
        azure=casefile.azure_entries(seen.view if seen else None, (r.rule.name for r in analysis.match.rules)),
        azure_notes=seen.notes if seen else (),
        source=source,
    )
    if redact:
        from akslbctl.sources.redact import redact as redact_doc

        doc = redact_doc(
            doc,
            subscriptions=[s for s in (case.subscription,) if s],
            resource_groups=[g for g in (case.resource_group,) if g],
        )
    size = casefile.write_document(filename, doc, secrets=term().secrets, deadline=budget)
    parts = [
        f"Service {case.service.ref}",
        _count(len(case.nodes), "node"),
        _count(len(case.load_balancers), "load balancer"),
        "no probe results" if no_probe else _count(len(entries), "probe result"),
    ]
    redacted = ", redacted" if redact else ""
    from akslbctl.render.escape import escape

    term().stdout.write(escape(f"wrote {filename} ({', '.join(parts)}{redacted}; {size:,} bytes)") + "\n")
    return ExitCode.OK


def probe_round(case, timeout: float, *, deadline=None, analysis=None) -> tuple[list[dict], str | None]:
    """One round of the probes explain would send (the plan and its hint probes), as §7 entries, and
    the source address they left from.

    ``deadline``: the command's; a round that cannot finish before it is an error (no file is written).
    """
    from akslbctl.analysis.app import app_targets
    from akslbctl.analysis.engine import analyse, probe_plan
    from akslbctl.analysis.hints import hint_targets
    from akslbctl.pipeline import ProbeOptions, run_probes, vantage_source
    from akslbctl.sources.casefile import probe_entry

    analysis = analysis or analyse(case)
    if analysis.match.lb is None:
        return [], None
    plan = probe_plan(analysis)
    targets = list(dict.fromkeys(plan + hint_targets(analysis) + app_targets(analysis)))
    results = run_probes(targets, ProbeOptions(timeout=timeout, deadline=deadline))
    node_of: dict[str, str] = {}
    for node in case.nodes:
        for ip in node.internal_ips:
            node_of.setdefault(ip, node.name)
    for rule in analysis.match.rules:
        for m in rule.members:
            if m.node is not None and m.address:
                node_of[m.address] = m.node.name
    stamp = _now()
    entries = [probe_entry(results[t], node_of.get(t.address), stamp) for t in targets if t in results]
    return entries, vantage_source(plan)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
