"""``akslbctl probe``: probe every pool member as the Azure LB does, round after round, with the state
the LB would hold and what Azure itself says."""

from __future__ import annotations

from typing import TYPE_CHECKING

from akslbctl.cli.common import Connection, load_case, output_format, setup_logging, term
from akslbctl.errors import ExitCode, UsageError

if TYPE_CHECKING:  # what typer reads in the annotations (akslbctl.cli.params.declared)
    from typing import Annotated

    import typer

    from akslbctl.cli.durations import duration
    from akslbctl.cli.params import (
        ArmEndpoint,
        Context,
        Debug,
        Kubeconfig,
        Namespace,
        NoAzureHealth,
        ProviderVersion,
        RequestTimeout,
        Resource,
        ResourceGroup,
        Subscription,
        output_option,
        probe_timeout,
    )


PROBE_OUTPUTS = ("table", "json")


def probe(
    resource: Resource = None,
    namespace: Namespace = None,
    context: Context = None,
    kubeconfig: Kubeconfig = None,
    subscription: Subscription = None,
    resource_group: ResourceGroup = None,
    arm_endpoint: ArmEndpoint = None,
    output: Annotated[
        str, output_option(PROBE_OUTPUTS, "table (a live table on a terminal, lines when piped) or json.")
    ] = "table",
    count: Annotated[
        int | None,
        typer.Option(
            "--count",
            metavar="N",
            help="Rounds to run (default: the largest probe threshold + 1, AKS: 3).",
            min=1,
            show_default=False,
        ),
    ] = None,
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval",
            metavar="DURATION",
            parser=duration(0.0),
            help="Time between rounds (default: the probe's intervalInSeconds).",
        ),
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Probe round after round until Ctrl-C.")] = False,
    timeout: Annotated[float, probe_timeout()] = "5s",  # type: ignore[assignment]  # the parser makes it seconds
    no_azure_health: NoAzureHealth = False,
    provider_version: ProviderVersion = None,
    request_timeout: RequestTimeout = "10s",  # type: ignore[assignment]
    deadline: Annotated[
        float,
        typer.Option(
            "--deadline",
            metavar="DURATION",
            parser=duration(0.1),
            help="How long collecting the evidence may take, then each round (probes, Azure's view); exit 3 "
            "when one passes.",
        ),
    ] = "120s",  # type: ignore[assignment]
    debug: Debug = False,
) -> int:
    """Probe every pool member as the LB does, round after round: last result, LB state, Azure's view."""
    from akslbctl.azurehealth import AzureOptions
    from akslbctl.deadline import Deadline
    from akslbctl.render.live import renderer
    from akslbctl.watch import Watch, WatchOptions

    budget = Deadline.start(deadline)  # collecting the evidence; then each round has a deadline of its own
    setup_logging(debug)
    output = output_format(output, PROBE_OUTPUTS)
    if watch and count is not None:
        raise UsageError("--watch and --count exclude each other", hint="--watch runs until Ctrl-C")
    conn = Connection(kubeconfig, context, namespace, subscription, resource_group, arm_endpoint, request_timeout)
    case = load_case(resource, conn, command="probe", deadline=budget)
    options = WatchOptions(
        count=count,
        interval=interval,
        timeout=timeout,
        forever=watch,
        azure=AzureOptions(enabled=not no_azure_health, endpoint=arm_endpoint),
        deadline=deadline,
    )
    session = Watch(case, options, provider_version=provider_version)
    out = renderer(output, term())
    from akslbctl.render.escape import human

    shown = (lambda x: x) if output == "json" else human  # JSON Lines stay exact; tables are escaped
    out.start(shown(session.plan))
    last = None
    try:
        for rnd in session.rounds():
            out.round(shown(rnd))
            last = rnd
    finally:
        out.close(shown(last))
    if last is not None and last.unknown:
        # No member has a state: this machine reached no node, and Azure's view is not there (§5.1).
        if session.plan.unprobeable:
            term().error(
                f"no verdict: no member can be probed as the LB probes it ({session.plan.unprobeable[0]}) and "
                "Azure's view is unavailable"
            )
        else:
            term().error("no verdict: no probe reached a node from here and Azure's view is unavailable")
        return ExitCode.NO_EVIDENCE
    return ExitCode.OK if last is not None and last.healthy else ExitCode.PROBLEM
