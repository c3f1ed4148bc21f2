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
from akslbctl.analysis.verdict import prepare as prepare_diagnosis
from akslbctl.azurehealth import AzureOptions, AzureResult, with_azure
from akslbctl.azurehealth import start as start_azure_fetch
from akslbctl.errors import DeadlineExceeded
from akslbctl.logs import DebugLog
from akslbctl.model.case import Case
from akslbctl.model.probe import ProbeResult, ProbeTarget
from akslbctl.model.report import Diagnosis, LoadBalancerDiff
from akslbctl.options import ProbeOptions

log = DebugLog("akslbctl.pipeline")

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
    from akslbctl.probing.route import local_address_for

    first = next((t for t in targets if ":" not in t.address), targets[0])
    return local_address_for(first.address)


def run_probes(
    targets: list[ProbeTarget], options: ProbeOptions, *, worker: Any = None, on_sent: Any = None
) -> dict[ProbeTarget, ProbeResult]:
    """One round over ``targets``; in ``worker`` (a :class:`akslbctl.worker.Worker`) when there
    is one and it can run it, else in this process. ``on_sent()`` is called once, as the round
    starts (in the worker: once it has the targets)."""
    return begin_probes(targets, options, worker=worker, on_sent=on_sent).wait()


def begin_probes(
    targets: list[ProbeTarget], options: ProbeOptions, *, worker: Any = None, on_sent: Any = None
) -> ProbeRound:
    """:func:`run_probes` in two steps: a worker that takes the targets has them — and ``on_sent`` has
    been called — when this returns; :meth:`ProbeRound.wait` gives the results (a round in this
    process runs there)."""
    deadline = options.deadline
    bounded = deadline is not None and deadline.seconds is not None
    probe_round = ProbeRound(targets, options, on_sent)
    if not targets:
        return probe_round
    if bounded:
        deadline.check(probe_round.what)
    if worker is not None:
        from akslbctl.worker import WorkerFailed

        log.debug("probing %d target(s) in worker process %d", len(targets), worker.pid)
        try:
            worker.begin(
                targets,
                timeout=options.timeout,
                concurrency=options.concurrency,
                round_timeout=deadline.remaining() if bounded else None,
            )
        except WorkerFailed as exc:
            log.debug("%s: probing in this process", exc)
        else:
            probe_round.worker = worker
            probe_round.started()
    return probe_round


class ProbeRound:
    """A round :func:`begin_probes` started."""

    def __init__(self, targets: list[ProbeTarget], options: ProbeOptions, on_sent: Any) -> None:
        self.targets = targets
        self.options = options
        self.worker: Any = None  # the worker that has the targets
        self.what = f"probing {len(set(targets))} target(s)"
        self._on_sent = on_sent

    def started(self) -> None:  # once: a worker that failed after it had the targets leaves the round here
        if self._on_sent is not None:
            call, self._on_sent = self._on_sent, None
            call()

    def wait(self) -> dict[ProbeTarget, ProbeResult]:
        if not self.targets:
            return {}
        deadline = self.options.deadline
        bounded = deadline is not None and deadline.seconds is not None
        try:
            if self.worker is not None:
                from akslbctl.worker import WorkerFailed

                try:
                    return self.worker.wait(self.targets, round_timeout=deadline.remaining() if bounded else None)
                except WorkerFailed as exc:
                    log.debug("%s: probing in this process", exc)
            from akslbctl.probing.runner import probe_all

            self.started()
            return probe_all(
                self.targets,
                timeout=self.options.timeout,
                concurrency=self.options.concurrency,
                round_timeout=deadline.remaining() if bounded else None,
            )
        except TimeoutError:
            if not bounded:
                raise
            raise deadline.exceeded(self.what) from None


class EarlyProbes:
    """A probe round started from a partial case — the Service, the Nodes and the LBs: all a probe plan
    needs — while the rest of the evidence (NICs, the network path, EndpointSlices, Events, pods) is
    still being read (``collect(on_partial=…)``). :func:`explain` then takes its results for the targets
    the whole case plans and probes only what the partial case could not plan (a member whose address
    only its NIC names, hint and app targets): the same probes, the same results, sent sooner.

    The round runs on a thread of its own, with its own event loop, or in ``worker`` (a
    :class:`akslbctl.worker.Worker`, a process of its own) when there is one; the deadline
    bounds it as it bounds any round. ``azure``: Azure's view (rule health) is asked for the partial
    case's rules as the round starts; :func:`explain` takes that fetch when the whole case asks for the
    same rules, and maps its answer onto the whole case's pool."""

    def __init__(
        self,
        probe: ProbeOptions,
        *,
        provider_version: str | None = None,
        deadline: Any = None,
        azure: AzureOptions | None = None,
        worker: Any = None,
    ) -> None:
        if deadline is not None:
            probe = replace(probe, deadline=deadline)
        self.probe = probe
        self.azure = _bounded_azure(azure, deadline)
        self.worker = worker
        self.azure_fetch: Any = None  # Azure's view, asked for the partial case's rules
        self.in_worker = False  # the worker has the round's targets (and azure_fetch is set)
        self.provider_version = provider_version
        self._thread: Any = None
        self._results: dict[ProbeTarget, ProbeResult] = {}
        self._error: BaseException | None = None

    def start(self, partial: Case) -> None:
        """Plan the round and hand it to the worker on the caller's thread — a thread started for it
        first waited ~10 ms for the GIL the collection's threads hold — then wait for its results on
        a thread of its own (where the round runs when there is no worker)."""
        import threading

        if not self.probe.enabled or self._thread is not None or partial.recorded_probes is not None:
            return
        try:
            analysis = analyse(partial, provider_version=self.provider_version)
            if analysis.match.lb is None:
                return

            def ask_azure() -> None:  # Azure's view, asked as the round starts
                self.azure_fetch = start_azure_fetch(partial, analysis, self.azure)

            probe_round = begin_probes(probe_plan(analysis), self.probe, worker=self.worker, on_sent=ask_azure)
            self.in_worker = probe_round.worker is not None
        except Exception as exc:  # the deadline, or a bug: the round after the whole case decides
            self._error = exc
            return
        self._thread = threading.Thread(target=self._run, args=(probe_round,), name="akslbctl-probes", daemon=True)
        self._thread.start()

    def _run(self, probe_round: ProbeRound) -> None:
        try:
            self._results = probe_round.wait()
        except BaseException as exc:  # the deadline, or a bug: the round after the whole case decides
            self._error = exc

    def results(self, targets: list[ProbeTarget]) -> dict[ProbeTarget, ProbeResult]:
        """Results for ``targets``, in their order: the early round's, and a round for the rest."""
        if self._thread is not None:
            self._thread.join()
        if isinstance(self._error, DeadlineExceeded):
            raise self.probe.deadline.exceeded(f"probing {len(set(targets))} target(s)")
        got = self._results if self._error is None else {}
        rest = [t for t in dict.fromkeys(targets) if t not in got]
        more = run_probes(rest, self.probe) if rest else {}
        out = {}
        for t in dict.fromkeys(targets):
            if t in got:
                out[t] = got[t]
            elif t in more:
                out[t] = more[t]
        return out


def _bounded_azure(azure: AzureOptions | None, deadline: Any) -> AzureOptions | None:
    """``azure`` with its wait bounded by the command's deadline (what is left of it, less a reserve)."""
    if azure is None or deadline is None:
        return azure
    return replace(azure, wait=deadline.bound(azure.wait, reserve=AZURE_RESERVE))


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
    early: EarlyProbes | None = None,
) -> tuple[Analysis, Diagnosis]:
    """``azure``: ask ARM's rule health (Azure's own view) while the probes run; None does not ask.
    ``early``: the round :class:`EarlyProbes` started while the evidence was read, to complete.

    ``deadline`` (an :class:`akslbctl.deadline.Deadline`) bounds the probe round (exit 3 when it passes)
    and the wait for Azure's view, which is optional: when it cannot finish in time, the diagnosis says
    so in a note and comes from the probes alone.
    """
    if deadline is not None:
        probe = replace(probe, deadline=deadline)
    azure = _bounded_azure(azure, deadline)
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
    planned = targets + hint_targets(analysis) + app_targets(analysis)
    if early is not None and probe.enabled:
        if early.in_worker:
            # The worker probes: what needs no probe result — the network path, the memberships, Azure's
            # view mapped onto the pool — is made meanwhile.
            prepare_diagnosis(analysis)
            seen = _azure_seen(_whole_case_fetch(early, case, analysis, azure), analysis, azure, deadline)
            results = early.results(planned)
        else:
            results = early.results(planned)
            seen = _azure_seen(_whole_case_fetch(early, case, analysis, azure), analysis, azure, deadline)
    else:
        fetch = start_azure_fetch(case, analysis, azure)  # ARM in threads while the prober runs
        results = run_probes(planned, probe) if probe.enabled else None
        seen = _azure_seen(fetch, analysis, azure, deadline)
    view = seen.view if seen is not None else None
    if results is None:
        return analysis, with_azure(diagnose(analysis, None, azure=view), seen, source=None)
    source = vantage_source(targets)
    diagnosis = diagnose(analysis, results, azure=view, vantage=vantage_text(targets, source), source=source)
    return analysis, with_azure(diagnosis, seen, source=source)


def _whole_case_fetch(early: EarlyProbes, case: Case, analysis: Analysis, azure: AzureOptions | None) -> Any:
    """The early round's fetch of Azure's view when it asked for the whole case's rules, else a new one."""
    fetch = early.azure_fetch
    if fetch is None or not fetch.asks_for(case, analysis):
        fetch = start_azure_fetch(case, analysis, azure)
    return fetch


def _azure_seen(fetch: Any, analysis: Analysis, azure: AzureOptions | None, deadline: Any) -> AzureResult | None:
    """What ``fetch`` (None: nothing asked) brings, waited for within the deadline's bound."""
    if fetch is None:
        return None
    limit = None if deadline is None else deadline.bound(azure.wait + 10.0, reserve=AZURE_RESERVE)
    return fetch.result(timeout=limit, analysis=analysis)


def recorded_vantage(source: str | None) -> str:
    where = f" (sent from {source})" if source else ""
    return f"recorded in the case file{where}"


def diff(case: Case, *, provider_version: str | None = None) -> tuple[Analysis, LoadBalancerDiff]:
    """Evidence → analysis → what differs from the provider's configuration (no probes, no Azure health)."""
    from akslbctl.analysis.diff import diff as compare

    analysis = analyse(case, provider_version=provider_version)
    return analysis, compare(analysis)
