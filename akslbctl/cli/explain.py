"""``akslbctl explain``: which nodes the Azure LB treats as up for a Service, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from akslbctl.cli.common import (
    OUTPUTS,
    Connection,
    keep_until_exit,
    load_case,
    output_format,
    setup_logging,
    term,
    write_document,
)
from akslbctl.errors import ExitCode

if TYPE_CHECKING:  # what typer reads in the annotations (akslbctl.cli.params.declared)
    from typing import Annotated

    import typer

    from akslbctl.cli.params import (
        ArmEndpoint,
        CaseFile,
        Context,
        DeadlineSeconds,
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


def explain(
    resource: Resource = None,
    namespace: Namespace = None,
    context: Context = None,
    kubeconfig: Kubeconfig = None,
    subscription: Subscription = None,
    resource_group: ResourceGroup = None,
    arm_endpoint: ArmEndpoint = None,
    filename: CaseFile = None,
    all_namespaces: Annotated[
        bool,
        typer.Option("--all-namespaces", "-A", help="Every LoadBalancer Service of every namespace: one row each."),
    ] = False,
    selector: Annotated[
        str | None,
        typer.Option(
            "--selector",
            "-l",
            metavar="SELECTOR",
            help="LoadBalancer Services matching this label selector: one row each.",
        ),
    ] = None,
    tree: Annotated[
        bool, typer.Option("--tree", help="Show a tree: frontend → rules → probes → nodes → pods.")
    ] = False,
    svg: Annotated[
        str | None,
        typer.Option("--svg", metavar="FILE", help="Also save the table or tree as an SVG picture in this file."),
    ] = None,
    png: Annotated[
        str | None,
        typer.Option(
            "--png",
            metavar="FILE",
            help="Also save the table or tree as a PNG picture in this file (for tickets that show no SVG).",
        ),
    ] = None,
    output: Annotated[str, output_option(OUTPUTS)] = "table",
    all_nodes: Annotated[
        bool,
        typer.Option(
            "--all-nodes",
            help="Print every node's row; above 20 nodes the table otherwise shows the nodes worth reading "
            "first and folds the rest by identical reason (-o wide prints every row too).",
        ),
    ] = False,
    timeout: Annotated[float, probe_timeout()] = "5s",  # type: ignore[assignment]  # the parser makes it seconds
    no_probe: Annotated[bool, typer.Option("--no-probe", help="Do not probe the nodes.")] = False,
    no_azure_health: NoAzureHealth = False,
    provider_version: ProviderVersion = None,
    request_timeout: RequestTimeout = "10s",  # type: ignore[assignment]
    deadline: DeadlineSeconds = "120s",  # type: ignore[assignment]
    debug: Debug = False,
) -> int:
    """Which nodes the Azure LB treats as up for a Service, and why."""
    from akslbctl.cli.pictures import check_picture_options, show_pictures
    from akslbctl.cli.progress import progress
    from akslbctl.deadline import Deadline
    from akslbctl.options import AzureOptions, ProbeOptions

    budget = Deadline.start(deadline)
    setup_logging(debug)
    output = output_format(output)
    check_picture_options(output, tree=tree, svg=svg, png=png)
    conn = Connection(kubeconfig, context, namespace, subscription, resource_group, arm_endpoint, request_timeout)
    probe_opts = ProbeOptions(enabled=not no_probe, timeout=timeout)
    azure_opts = AzureOptions(enabled=not no_azure_health, endpoint=arm_endpoint)
    if all_namespaces or selector is not None:
        from akslbctl.cli.many import explain_many

        return explain_many(
            resource,
            conn,
            all_namespaces=all_namespaces,
            selector=selector,
            filename=filename,
            tree=tree,
            svg=svg,
            png=png,
            output=output,
            probe=probe_opts,
            azure=azure_opts,
            provider_version=provider_version,
            deadline=budget,
            debug=debug,
        )
    live = worker = None
    if filename is None:
        from akslbctl.cli.common import prepare_live
        from akslbctl.worker import Worker

        live = prepare_live(resource, conn, command="explain", deadline=budget, connect=True)
        # Forked with the kubeconfig loaded, before any thread (the spinner's too) or request: it lists
        # the Nodes and runs the early round on a CPU of its own.
        worker = Worker.start(live.kube)
    try:
        with progress(term(), "collecting evidence…", enabled=not debug) as status:
            early = []  # the probe round started as soon as the Nodes and LBs are in

            def on_partial(partial) -> None:
                from akslbctl.pipeline import EarlyProbes  # loaded while the evidence was read

                early.append(
                    EarlyProbes(
                        probe_opts, provider_version=provider_version, deadline=budget, azure=azure_opts, worker=worker
                    )
                )
                early[0].start(partial)

            if live is None:
                case = load_case(resource, conn, command="explain", filename=filename, deadline=budget)
            else:
                from akslbctl.cli.common import collect_live

                # The worker has the prober; without one the round needs it here (unless nothing is probed).
                prober = probe_opts.enabled and worker is None
                case = collect_live(live, deadline=budget, on_partial=on_partial, load_prober=prober, worker=worker)
            status.update(f"probing the nodes of {case.service.ref}…")
            from akslbctl.pipeline import explain as run_explain

            analysis, diagnosis = run_explain(
                case,
                probe_opts,
                provider_version=provider_version,
                azure=azure_opts,
                deadline=budget,
                early=early[0] if early else None,
            )
    finally:
        if worker is not None:
            worker.close()
    keep_until_exit(case, analysis, diagnosis, early, live)
    if tree or svg or png:
        show_pictures(
            diagnosis,
            case,
            output,
            tree=tree,
            svg=svg,
            png=png,
            all_nodes=all_nodes,
            case_file=filename,
            deadline=budget,
        )
    else:
        render_diagnosis(diagnosis, output, all_nodes=all_nodes, case_file=filename)
    if diagnosis.load_balancer is None and diagnosis.provisioning_failed:
        # Contract §5.2: the provider said why it has not built the LB — something wrong, found (exit 1).
        term().error(
            f"the cloud provider has not built the load balancer of {diagnosis.service.ref}: see provisioning-failed"
        )
        return ExitCode.PROBLEM
    if diagnosis.no_evidence:
        # Exit 3, one line: no LB and nothing explains it (§5.2), or no verdict for any pool member while
        # nothing wrong was found for certain (§5.1).
        if diagnosis.load_balancer is None:
            no_lb = next((f.message for f in diagnosis.findings if f.code == "lb-not-found"), None)
            term().error(no_lb or f"no load balancer found for service {diagnosis.service.ref}")
        else:
            term().error(no_verdict_line(diagnosis))
        return ExitCode.NO_EVIDENCE
    return ExitCode.OK if diagnosis.healthy else ExitCode.PROBLEM


def no_verdict_line(diagnosis) -> str:
    """The one line of an explain that could give no verdict (every pool member ``unknown``)."""
    from akslbctl.analysis.fusion import UNREACHABLE_FROM_HERE

    ref = diagnosis.service.ref
    invalid = next((f.message for f in diagnosis.findings if f.code == "probe-target-invalid"), None)
    if invalid is not None and all(n.verdict == "unknown" for r in diagnosis.rules for n in r.nodes if n.in_pool):
        return f"no verdict for {ref}: no member could be probed as the LB probes it ({invalid.split(' — ', 1)[-1]})"
    if any(n.reason == UNREACHABLE_FROM_HERE for r in diagnosis.rules for n in r.nodes):
        return (
            f"no verdict for {ref}: no probe reached a node from here and Azure's view is unavailable; run "
            "from the cluster's VNet, or grant the rule-health permission"
        )
    return (
        f"no verdict for {ref}: no probe result (not probed, or none recorded) and no Azure view; the document "
        "shows what cluster state predicts"
    )


def render_diagnosis(diagnosis, output: str, *, all_nodes: bool = False, case_file: str | None = None) -> None:
    t = term()
    if output in ("json", "yaml"):
        from akslbctl.render.document import diagnosis_doc

        write_document(diagnosis_doc(diagnosis), output)
        return
    from akslbctl.render.escape import human
    from akslbctl.render.table import render_diagnosis

    render_diagnosis(
        human(diagnosis), t.printer(), wide=output == "wide", prog=t.prog, all_nodes=all_nodes, case_file=case_file
    )
