"""Application layer: evidence → analysis → probes → diagnosis. The CLI calls these, nothing else.

Everything here composes the stages; decisions live in ``akslbctl.analysis``, I/O in the sources and
the prober.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from akslbctl.analysis.app import app_targets
from akslbctl.analysis.engine import Analysis, analyse, probe_plan
from akslbctl.analysis.hints import hint_targets
from akslbctl.analysis.verdict import diagnose
from akslbctl.azurehealth import AzureOptions, AzureResult, with_azure
from akslbctl.azurehealth import start as start_azure_fetch
from akslbctl.model.case import Case
from akslbctl.model.probe import ProbeResult, ProbeTarget
from akslbctl.model.report import Diagnosis, LoadBalancerDiff
from akslbctl.options import ProbeOptions

AZURE_SOURCE = "168.63.129.16"
AZURE_RESERVE = 0.5  # seconds of the deadline kept for the diagnosis and its output after Azure's view


def vantage_text(targets: list[ProbeTarget], source: str | None = None) -> str | None:
    """Where our probes come from, and why that can differ from Azure's (probe-semantics.md §11)."""
    if not targets:
        return None
    source = source or vantage_source(targets)
    if source is None:
        return f"this machine has no route to the node network; Azure probes from {AZURE_SOURCE}"
    return (
        f"sent from {source} (this machine); Azure probes from {AZURE_SOURCE}, which NSG rules, host "
        "firewalls and NetworkPolicies may treat differently"
    )


def vantage_source(targets: list[ProbeTarget]) -> str | None:
    """The address the kernel picks to send probes to the node network (None when it has no route).

    Asked for an IPv4 node when there is one: the IPv4 path is the one users compare with Azure's.
    """
    if not targets:
        return None
    from akslbctl.probing.runner import local_address_for

    first = next((t for t in targets if ":" not in t.address), targets[0])
    return local_address_for(first.address)


def run_probes(targets: list[ProbeTarget], options: ProbeOptions) -> dict[ProbeTarget, ProbeResult]:
    from akslbctl.probing.runner import probe_all

    if not targets:
        return {}
    deadline = options.deadline
    if deadline is None or deadline.seconds is None:
        return probe_all(targets, timeout=options.timeout, concurrency=options.concurrency)
    what = f"probing {len(set(targets))} target(s)"
    deadline.check(what)
    try:
        return probe_all(
            targets, timeout=options.timeout, concurrency=options.concurrency, round_timeout=deadline.remaining()
        )
    except TimeoutError:
        raise deadline.exceeded(what) from None


def recorded_results(case: Case) -> dict[ProbeTarget, ProbeResult] | None:
    if case.recorded_probes is None:
        return None
    return {r.target: r for r in case.recorded_probes}


def explain(
    case: Case,
    probe: ProbeOptions,
    *,
    provider_version: str | None = None,
    azure: AzureOptions | None = None,
    deadline: Any = None,
) -> tuple[Analysis, Diagnosis]:
    """``azure``: ask ARM's rule health (Azure's own view) while the probes run; None does not ask.

    ``deadline`` (an :class:`akslbctl.deadline.Deadline`) bounds the probe round (exit 3 when it passes)
    and the wait for Azure's view, which is optional: when it cannot finish in time, the diagnosis says
    so in a note and comes from the probes alone.
    """
    if deadline is not None:
        probe = replace(probe, deadline=deadline)
        if azure is not None:
            azure = replace(azure, wait=deadline.bound(azure.wait, reserve=AZURE_RESERVE))
    analysis = analyse(case, provider_version=provider_version)
    if analysis.match.lb is None:
        return analysis, diagnose(analysis, None)
    targets = probe_plan(analysis)
    recorded = recorded_results(case)
    if recorded is not None or case.recorded_azure is not None:
        # A case file: the verdicts it recorded (probes, Azure's view, the probe source) replay as live.
        source = case.recorded_source
        diagnosis = diagnose(
            analysis,
            recorded,
            azure=case.recorded_azure,
            vantage=recorded_vantage(source) if recorded else None,
            not_probed_why="no recorded probe result for this node" if recorded else "the case holds no probe results",
            source=source,
        )
        replay = AzureResult(view=case.recorded_azure, notes=case.recorded_notes)
        return analysis, with_azure(diagnosis, replay, source=source)
    fetch = start_azure_fetch(case, analysis, azure)  # ARM in threads while the prober runs
    results = run_probes(targets + hint_targets(analysis) + app_targets(analysis), probe) if probe.enabled else None
    seen = None
    if fetch is not None:
        limit = None if deadline is None else deadline.bound(azure.wait + 10.0, reserve=AZURE_RESERVE)
        seen = fetch.result(timeout=limit)
    view = seen.view if seen is not None else None
    if results is None:
        return analysis, with_azure(diagnose(analysis, None, azure=view), seen, source=None)
    source = vantage_source(targets)
    diagnosis = diagnose(analysis, results, azure=view, vantage=vantage_text(targets, source), source=source)
    return analysis, with_azure(diagnosis, seen, source=source)


def recorded_vantage(source: str | None) -> str:
    where = f" (sent from {source})" if source else ""
    return f"recorded in the case file{where}"


def diff(case: Case, *, provider_version: str | None = None) -> tuple[Analysis, LoadBalancerDiff]:
    """Evidence → analysis → what differs from the provider's configuration (no probes, no Azure health)."""
    from akslbctl.analysis.diff import diff as compare

    analysis = analyse(case, provider_version=provider_version)
    return analysis, compare(analysis)
