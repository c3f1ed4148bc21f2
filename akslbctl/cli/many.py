"""``explain -A`` and ``explain -l SELECTOR``: every matching LoadBalancer Service, one row each.

Each Service goes through the same pipeline as ``explain svc/NAME`` (probes and Azure's view
included), but the evidence the Services share — the Nodes, the cluster version, the resource group's
load balancers and public IPs — is fetched once (:func:`akslbctl.collect.collect_many`). ``-o json``
and ``-o yaml`` give one ServiceDiagnosisList document (contract §5.3); the exit code is the worst of the
Services' (3 no load balancer found > 1 something wrong > 0).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from akslbctl.cli.common import Connection, term
from akslbctl.errors import ExitCode, UsageError

PARALLEL = 4  # Services probed at once (each one's probes already run concurrently)


def explain_many(
    resource: list[str] | None,
    conn: Connection,
    *,
    all_namespaces: bool,
    selector: str | None,
    filename: str | None,
    tree: bool,
    svg: str | None,
    output: str,
    png: str | None = None,
    probe,
    azure,
    provider_version: str | None,
    deadline=None,
    debug: bool = False,
) -> int:
    """``deadline`` (an :class:`akslbctl.deadline.Deadline`) bounds the whole run, as for one Service."""
    from akslbctl.cli.progress import progress
    from akslbctl.cli.resource import check_namespace
    from akslbctl.collect import collect_many
    from akslbctl.sources.arm import ArmOptions
    from akslbctl.sources.kube import KubeOptions

    flag = "-A" if all_namespaces else "-l"
    if resource:
        raise UsageError(f"{flag} selects the Services: do not name one as well", hint="drop svc/NAME, or drop " + flag)
    if filename is not None:
        raise UsageError(f"-f analyses the one Service of a case file; it does not go with {flag}")
    if tree:
        raise UsageError(f"--tree draws one Service; it does not go with {flag}", hint="explain svc/NAME --tree")
    if selector is not None and not selector.strip():
        raise UsageError("-l needs a label selector", hint="for example: -l app=web")
    t = term()
    from akslbctl.deadline import run_within

    kube_opts = KubeOptions(
        conn.kubeconfig, conn.context, check_namespace(conn.namespace), conn.request_timeout, deadline=deadline
    )
    arm_opts = ArmOptions(
        conn.subscription, conn.resource_group, conn.arm_endpoint, max(conn.request_timeout, 10.0), deadline=deadline
    )
    with progress(t, "listing LoadBalancer Services…", enabled=not debug) as status:
        cases = run_within(
            deadline,
            lambda: collect_many(
                kube_opts, arm_opts, all_namespaces=all_namespaces, selector=selector, secrets=t.secrets
            ),
            "collecting the evidence (Kubernetes API, ARM)",
        )
        cases.sort(key=lambda c: (c.service.namespace, c.service.name))
        diagnoses = diagnose_all(cases, probe, azure, provider_version, status, deadline=deadline)
    if output in ("json", "yaml"):
        from akslbctl.cli.common import write_document
        from akslbctl.render.document import diagnosis_list_doc

        write_document(diagnosis_list_doc(diagnoses), output)
    elif diagnoses:
        from akslbctl.cli.pictures import show
        from akslbctl.render.escape import human
        from akslbctl.render.summary import render_summary, summary_row

        rows = [summary_row(d) for d in human(diagnoses)]
        show(
            lambda console: render_summary(rows, console, wide=output == "wide", prog=t.prog),
            svg,
            title="akslbctl explain",
            png=png,
            deadline=deadline,
        )
    if not diagnoses:
        where = "in any namespace" if all_namespaces else "in the namespace"
        match = f" matching {selector}" if selector else ""
        from akslbctl.render.escape import escape

        t.stderr.write(escape(f"No LoadBalancer Services found {where}{match}.") + "\n")
        return ExitCode.OK
    from akslbctl.render.summary import summary_row

    return max(summary_row(d).exit_code for d in diagnoses)


def diagnose_all(cases, probe, azure, provider_version, status, *, deadline=None) -> list:
    """Run explain's pipeline for each Case, a few Services at a time, keeping the Cases' order."""
    from akslbctl.pipeline import explain as run_explain

    if not cases:
        return []
    done = 0

    def one(case):
        return run_explain(case, probe, provider_version=provider_version, azure=azure, deadline=deadline)[1]

    results = []
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(cases))) as pool:
        status.update(f"probing the nodes of {len(cases)} Services…")
        for diagnosis in pool.map(one, cases):
            results.append(diagnosis)
            done += 1
            status.update(f"probed {done} of {len(cases)} Services…")
    return results
