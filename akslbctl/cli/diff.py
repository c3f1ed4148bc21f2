"""``akslbctl diff``: is the Azure LB what the cloud provider would configure for the Service?

Exit codes mirror ``kubectl diff`` (contract §4): 0 no drift, 1 drift, 2 bad input, 3 no evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from akslbctl.cli.common import (
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

    from akslbctl.cli.params import (
        ArmEndpoint,
        CaseFile,
        Context,
        DeadlineSeconds,
        Debug,
        Kubeconfig,
        Namespace,
        ProviderVersion,
        RequestTimeout,
        Resource,
        ResourceGroup,
        Subscription,
        output_option,
    )


OUTPUTS = ("table", "json", "yaml")


def diff(
    resource: Resource = None,
    namespace: Namespace = None,
    context: Context = None,
    kubeconfig: Kubeconfig = None,
    subscription: Subscription = None,
    resource_group: ResourceGroup = None,
    arm_endpoint: ArmEndpoint = None,
    filename: CaseFile = None,
    output: Annotated[str, output_option(OUTPUTS)] = "table",
    provider_version: ProviderVersion = None,
    request_timeout: RequestTimeout = "10s",  # type: ignore[assignment]
    deadline: DeadlineSeconds = "120s",  # type: ignore[assignment]
    debug: Debug = False,
) -> int:
    """What differs between the Service's Azure LB and what the cloud provider would configure."""
    from akslbctl.deadline import Deadline
    from akslbctl.pipeline import diff as run_diff

    budget = Deadline.start(deadline)
    setup_logging(debug)
    output = output_format(output, OUTPUTS)
    conn = Connection(kubeconfig, context, namespace, subscription, resource_group, arm_endpoint, request_timeout)
    case = load_case(resource, conn, command="diff", filename=filename, deadline=budget)
    analysis, result = run_diff(case, provider_version=provider_version)
    keep_until_exit(case, analysis, result)
    render_diff(result, output)
    if result.load_balancer is None and result.provisioning_failed:
        # Contract §5.2: the provider said why it has not built the LB — something wrong, found (exit 1).
        term().error(
            f"the cloud provider has not built the load balancer of {result.service.ref}: see provisioning-failed"
        )
        return ExitCode.PROBLEM
    if result.load_balancer is None:
        term().error(  # exit 3: one line on stderr, as for every error
            f"no load balancer in resource group {case.resource_group or '?'} has a frontend or rule for service "
            f"{result.service.ref}{result.not_found_why}",
        )
        return ExitCode.NO_EVIDENCE
    return ExitCode.PROBLEM if result.drift else ExitCode.OK


def render_diff(result, output: str) -> None:
    t = term()
    if output in ("json", "yaml"):
        from akslbctl.render.document import diff_doc

        write_document(diff_doc(result), output)
        return
    from akslbctl.render.diff_table import render_diff as render_table
    from akslbctl.render.escape import human

    render_table(human(result), t.printer())
