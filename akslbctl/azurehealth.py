"""Fetch Azure's own view (ARM rule health) for a Service's rules, alongside the probes.

The rule-health operation is a long-running POST per rule (probe-semantics.md §5.1). The SDK is
synchronous and the prober is asyncio, so each rule is asked in its own daemon thread while the
probes run; daemon threads, because a Ctrl-C must not wait for ARM. Whatever ARM answers — a 403,
an API version without the operation, a timeout — the result is a view with the rules it could get
and one note for the rest, never an exception.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import field, replace
from typing import Any

from akslbctl.analysis.azureview import (
    asked_rules,
    azure_view,
    diagnosis_disagreements,
    disagreement_findings,
    no_probe_note,
    rules_without_probe,
    unavailable_note,
)
from akslbctl.analysis.engine import Analysis
from akslbctl.analysis.verdict import AzureView
from akslbctl.logs import DebugLog
from akslbctl.model.case import Case
from akslbctl.model.report import Diagnosis
from akslbctl.options import AzureOptions
from akslbctl.records import record

log = DebugLog("akslbctl.azurehealth")

PATH_EXPLAINS = ("nsg-blocks-probe", "pls-proxy-protocol", "ipv6-probe-down")


@record(frozen=True)
class AzureResult:
    """Azure's view (None when no rule's health could be had) and the notes that explain the gaps."""

    view: AzureView | None
    notes: tuple[str, ...] = ()
    documents: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


class RuleHealthFetch:
    """Rule health for every rule of the Service that has a probe, one daemon thread per rule.

    ``source`` builds the object that answers ``rule_health(resource_group, lb, rule, wait=...)``
    (default: an :class:`~akslbctl.sources.arm.ArmSource` for the case's subscription).
    """

    def __init__(
        self,
        case: Case,
        analysis: Analysis,
        options: AzureOptions,
        *,
        source: Callable[[], Any] | None = None,
    ) -> None:
        self.analysis = analysis
        self.options = options
        self.started = time.monotonic()
        self._rules = _asked(analysis)
        self._lb = _lb_key(analysis, case)
        self._case_scope = (case.subscription, case.resource_group)
        self._documents: dict[str, Mapping[str, Any]] = {}
        self._failures: dict[str, str] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        lb = analysis.match.lb
        self._source = None
        if lb is None or not self._rules:
            return
        try:
            self._source = (source or (lambda: _arm_source(case, options)))()
        except Exception as exc:  # no credential, bad endpoint: Azure's view is optional
            self._fail_all(f"cannot call ARM ({_one_line(exc)})")
            return
        group = lb.resource_group or case.resource_group or ""
        for rule in self._rules:
            t = threading.Thread(
                target=self._ask, args=(group, lb.name, rule), name=f"akslbctl-rule-health-{rule}", daemon=True
            )
            self._threads.append(t)
            t.start()

    def _ask(self, group: str, lb: str, rule: str) -> None:
        from akslbctl.sources.arm import RuleHealthUnavailable

        try:
            doc = self._source.rule_health(group, lb, rule, wait=self.options.wait)
        except RuleHealthUnavailable as exc:
            with self._lock:
                self._failures[rule] = str(exc)
            return
        except Exception as exc:  # never a failure of the command (contract §3)
            log.debug("rule health for %s failed: %s", rule, exc)
            with self._lock:
                self._failures[rule] = f"rule-health operation failed ({_one_line(exc)})"
            return
        with self._lock:
            self._documents[rule] = doc

    def _fail_all(self, reason: str) -> None:
        for rule in self._rules:
            self._failures[rule] = reason

    def done(self) -> bool:
        return all(not t.is_alive() for t in self._threads)

    def asks_for(self, case: Case, analysis: Analysis) -> bool:
        """True when this fetch asks what a fetch for ``case`` and ``analysis`` would: the same rules of
        the same LB, in the same subscription. A fetch started from the partial case (the Service, the
        Nodes and the LBs) serves the whole case then: its view is made with the whole case's analysis."""
        return (
            self._rules == _asked(analysis)
            and self._lb == _lb_key(analysis, case)
            and self._case_scope == (case.subscription, case.resource_group)
        )

    def result(self, timeout: float | None = None, *, analysis: Analysis | None = None) -> AzureResult:
        """Wait (at most ``timeout``, default the operation bound plus a margin) and return the view,
        mapped onto the pool by ``analysis`` (default: the one the fetch was started with)."""
        analysis = self.analysis if analysis is None else analysis
        limit = self.options.wait + 10.0 if timeout is None else timeout
        deadline = time.monotonic() + limit
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            documents = dict(self._documents)
            failures = dict(self._failures)
        for rule in self._rules:
            if rule not in documents and rule not in failures:
                failures[rule] = f"ARM did not finish the rule-health operation within {limit:.0f} s"
        if self.done() and self._source is not None:
            close = getattr(self._source, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):  # closing a client must not cost the result
                    close()
            self._source = None
        notes = [n for n in (unavailable_note(failures), no_probe_note(rules_without_probe(analysis))) if n]
        view = azure_view(analysis, documents) if documents else None
        return AzureResult(view=view, notes=tuple(notes), documents=documents)


def start(case: Case, analysis: Analysis, options: AzureOptions | None) -> RuleHealthFetch | None:
    """Start asking ARM when it is wanted and possible (a live case with a matched LB)."""
    if options is None or not options.enabled or analysis.match.lb is None or case.recorded_probes is not None:
        return None
    if not case.subscription:
        return None
    return RuleHealthFetch(case, analysis, options)


def with_azure(diagnosis: Diagnosis, result: AzureResult | None, *, source: str | None) -> Diagnosis:
    """Add Azure's notes and the disagreement findings to a diagnosis built with ``azure=result.view``."""
    if result is None:
        return diagnosis
    probes = {r.name: r.probe for r in diagnosis.rules}
    # Where the network path already names what stops Azure's probes, a disagreement says nothing more.
    explained = {f.rule for f in diagnosis.findings if f.code in PATH_EXPLAINS and f.rule}
    disagreements = [d for d in diagnosis_disagreements(diagnosis) if d.rule not in explained]
    extra = disagreement_findings(disagreements, service=diagnosis.service, probes=probes, source=source)
    return replace(
        diagnosis,
        findings=(*diagnosis.findings, *extra),
        notes=tuple(dict.fromkeys((*diagnosis.notes, *result.notes))),
    )


def _asked(analysis: Analysis) -> list[str]:
    return [r.rule.name for r in asked_rules(analysis)]


def _lb_key(analysis: Analysis, case: Case) -> tuple[str, str] | None:
    lb = analysis.match.lb
    return None if lb is None else (lb.resource_group or case.resource_group or "", lb.name)


def _arm_source(case: Case, options: AzureOptions):
    from akslbctl.sources.arm import ArmSource, resolve_endpoint

    return ArmSource(case.subscription or "", resolve_endpoint(options.endpoint), timeout=min(options.wait, 30.0))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160] or type(exc).__name__
