"""``akslbctl explain``: which nodes the Azure LB treats as up for a Service, and why."""

from __future__ import annotations

from typing import Annotated

import typer

from akslbctl.cli.common import (
    ArmEndpoint,
    CaseFile,
    Connection,
    Context,
    Debug,
    Kubeconfig,
    Namespace,
    NoAzureHealth,
    RequestTimeout,
    Resource,
    ResourceGroup,
    Subscription,
    load_case,
    output_format,
    setup_logging,
    term,
)
from akslbctl.errors import ExitCode


def explain(
    resource: Resource = None,
    namespace: Namespace = None,
    context: Context = None,
    kubeconfig: Kubeconfig = None,
    subscription: Subscription = None,
    resource_group: ResourceGroup = None,
    arm_endpoint: ArmEndpoint = None,
    filename: CaseFile = None,
    output: Annotated[str, typer.Option("--output", "-o", help="table, wide, json or yaml.")] = "table",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per probe, as a whole.", min=0.05)] = 5.0,
    no_probe: Annotated[bool, typer.Option("--no-probe", help="Do not probe the nodes.")] = False,
    no_azure_health: NoAzureHealth = False,
    provider_version: Annotated[
        str | None,
        typer.Option("--provider-version", help="Assume this cloud-provider-azure version (e.g. v1.24.10)."),
    ] = None,
    request_timeout: RequestTimeout = 10.0,
    debug: Debug = False,
) -> int:
    """Which nodes the Azure LB treats as up for a Service, and why."""
    from akslbctl.azurehealth import AzureOptions
    from akslbctl.pipeline import ProbeOptions
    from akslbctl.pipeline import explain as run_explain

    setup_logging(debug)
    output = output_format(output)
    conn = Connection(kubeconfig, context, namespace, subscription, resource_group, arm_endpoint, request_timeout)
    case = load_case(resource, conn, command="explain", filename=filename)
    _, diagnosis = run_explain(
        case,
        ProbeOptions(enabled=not no_probe, timeout=timeout),
        provider_version=provider_version,
        azure=AzureOptions(enabled=not no_azure_health, endpoint=arm_endpoint),
    )
    render_diagnosis(diagnosis, output)
    if diagnosis.load_balancer is None:
        return ExitCode.NO_EVIDENCE
    return ExitCode.OK if diagnosis.healthy else ExitCode.PROBLEM


def render_diagnosis(diagnosis, output: str) -> None:
    from akslbctl.render.document import diagnosis_doc, to_json, to_yaml

    t = term()
    if output in ("json", "yaml"):
        doc = diagnosis_doc(diagnosis)
        t.stdout.write((to_json(doc) + "\n") if output == "json" else to_yaml(doc))
        return
    from akslbctl.render.table import render_diagnosis

    render_diagnosis(diagnosis, t.console(), wide=output == "wide")
