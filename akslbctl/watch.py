"""``probe``'s rounds: probe every pool member as the LB does, round after round, and keep the LB's
state per member.

One ``analyse`` plans everything: the distinct probes of the Service's rules and the pool members
each one reaches. Kubernetes and ARM are not read again; only Azure's own view (rule health) is
re-asked in the background, at most every ``azure_refresh`` seconds. Each round probes every
(probe, member) once, feeds the results to the LB's state machine (``analysis.lbstate``) and yields a
:class:`Round`; rendering happens elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from akslbctl.analysis import lbstate
from akslbctl.analysis.azureview import AZURE_SOURCE, Disagreement, direction, disagreement_findings
from akslbctl.analysis.engine import Analysis, analyse, probe_target
from akslbctl.analysis.fusion import azure_state, blind_round, reached
from akslbctl.analysis.match import MatchedRule
from akslbctl.azurehealth import AzureOptions, AzureResult, RuleHealthFetch
from akslbctl.azurehealth import start as start_azure_fetch
from akslbctl.errors import EvidenceError
from akslbctl.model.azure import Probe
from akslbctl.model.case import Case
from akslbctl.model.kube import Service
from akslbctl.model.probe import ProbeResult, ProbeTarget, target_problem
from akslbctl.model.report import AzureHealth, Finding
from akslbctl.records import record

DEFAULT_INTERVAL = 5.0  # seconds, when no probe says (the provider's default intervalInSeconds)
FIRST_AZURE_WAIT = 10.0  # seconds the first round waits for Azure's view before going on without it


@record(frozen=True)
class WatchOptions:
    """``count``: rounds to run (None: :func:`default_count`, or until interrupted with ``forever``);
    ``interval``: seconds from one round's start to the next (None: the probes' own
    ``intervalInSeconds``); ``timeout``: seconds per probe; ``azure_refresh``: ask ARM's rule health
    again at most this often; ``deadline``: seconds one round may take, probes and the first round's
    wait for Azure's view included (``--deadline``; a round that cannot finish is an evidence error)."""

    count: int | None = None
    interval: float | None = None
    timeout: float = 5.0
    concurrency: int | None = None  # None: as many at once as the descriptor limit allows
    forever: bool = False  # --watch: rounds until interrupted
    azure: AzureOptions | None = None
    azure_refresh: float = 30.0
    deadline: float | None = None


@record(frozen=True)
class Member:
    node: str  # the Node's name, or "<no node: ADDRESS>" for a member that matches none
    address: str
    target: ProbeTarget  # what the LB probes at this member


@record(frozen=True)
class PlannedProbe:
    """One probe of the LB and the pool members it reaches, over every rule that uses it."""

    probe: Probe
    rules: tuple[MatchedRule, ...]
    members: tuple[Member, ...]

    @property
    def key(self) -> str:
        return self.probe.id.lower()

    @property
    def path(self) -> str | None:
        """The path the LB requests (Http/Https), None for Tcp."""
        return (self.probe.request_path or "/") if self.probe.protocol in ("Http", "Https") else None


@record(frozen=True)
class PlannedRule:
    name: str
    protocol: str
    frontend_port: int
    probe_key: str | None  # the PlannedProbe.key, None: the rule has no probe
    members: int  # pool members with an address
    addresses: frozenset[str] = frozenset()
    leftover: bool = False  # for a port the Service no longer declares (stale-rule): drift, never dark


@record(frozen=True)
class WatchPlan:
    service: Service
    load_balancer: str
    probes: tuple[PlannedProbe, ...]
    rules: tuple[PlannedRule, ...]
    interval: float
    count: int | None
    source: str | None  # the address our probes leave from
    notes: tuple[str, ...] = ()
    unprobeable: tuple[str, ...] = ()  # "member: why" for members no probe may be sent to (target_problem)

    @property
    def targets(self) -> list[ProbeTarget]:
        return [m.target for p in self.probes for m in p.members]


@record(frozen=True)
class NodeRound:
    node: str
    address: str
    result: ProbeResult | None
    state: lbstate.MemberState
    azure: AzureHealth | None = None
    disagreement: str | None = None  # azureview.AZURE_FAILS / AZURE_SUCCEEDS
    lb: str | None = None  # the LB's state (contract §5.1): Azure's when it has one, else ours; None: unknown
    lb_from: str | None = None  # "azure" | "probe" | None

    @property
    def ok(self) -> bool | None:
        return None if self.result is None else self.result.up

    @property
    def up(self) -> bool:
        return self.lb == lbstate.UP


@record(frozen=True)
class ProbeRound:
    planned: PlannedProbe
    nodes: tuple[NodeRound, ...]

    @property
    def up(self) -> int:
        return sum(1 for n in self.nodes if n.up)


@record(frozen=True)
class RuleRound:
    name: str
    probe: str | None  # probe name
    up: int  # pool members the LB would send to after this round
    members: int
    unknown: int = 0  # pool members with no state: neither our probe nor Azure's view reached them
    leftover: bool = False  # a leftover rule (stale-rule): shown, never counted as dark


@record(frozen=True)
class Round:
    number: int
    at: str  # RFC 3339, when the round started
    elapsed_ms: float  # how long the probes took
    probes: tuple[ProbeRound, ...]
    rules: tuple[RuleRound, ...]
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    azure_age: float | None = None  # seconds since Azure's view in this round was asked for

    @property
    def healthy(self) -> bool:
        """Every rule of the Service has a member the LB treats as up (the exit code of ``probe --count``);
        a leftover rule is drift, as in ``explain``, and does not count."""
        return all(r.up > 0 for r in self.rules if not r.leftover)

    @property
    def unknown(self) -> bool:
        """No member has a state: this machine reached no node and Azure's view is not there."""
        members = [n for p in self.probes for n in p.nodes]
        return bool(members) and all(n.lb is None for n in members)


# -- plan ----------------------------------------------------------------------------------------


def plan(analysis: Analysis, options: WatchOptions) -> WatchPlan:
    """The probes to run each round, from one analysis. No LB for the Service is an evidence error."""
    lb = analysis.match.lb
    service = analysis.case.service
    if lb is None:
        raise EvidenceError(
            f"no load balancer in resource group {analysis.case.resource_group or '?'} has a frontend or rule for "
            f"service {service.ref}{analysis.match.not_found_why}",
            hint="run 'akslbctl explain' for the details",
        )
    probes: dict[str, tuple[Probe, list[MatchedRule], dict[str, Member]]] = {}
    rules = []
    without_address = 0
    unprobeable: list[str] = []
    for mr in analysis.match.rules:
        members = [m for m in mr.members if m.address]
        without_address += len(mr.members) - len(members)
        key = mr.probe.id.lower() if mr.probe is not None else None
        addresses = frozenset(m.address for m in members)
        leftover = analysis.expected_rule(mr.rule.name) is None
        rules.append(
            PlannedRule(mr.rule.name, mr.rule.protocol, mr.rule.frontend_port, key, len(addresses), addresses, leftover)
        )
        if mr.probe is None or key is None:
            continue
        entry = probes.setdefault(key, (mr.probe, [], {}))
        entry[1].append(mr)
        first = entry[1][0]  # rules sharing a probe probe alike; the first one's target stands for all
        for m in members:
            if m.address not in entry[2]:
                name = m.node.name if m.node is not None else f"<no node: {m.address}>"
                target = probe_target(first, m.address)
                if target is not None:
                    entry[2][m.address] = Member(name, m.address, target)
                    problem = target_problem(target)
                    if problem is not None:  # shown, never probed (the runner sends nothing there)
                        unprobeable.append(f"{name}: {problem}")
    planned = tuple(
        PlannedProbe(probe, tuple(rs), tuple(sorted(ms.values(), key=lambda m: m.node)))
        for probe, rs, ms in probes.values()
    )
    intervals = sorted({p.probe.interval for p in planned if p.probe.interval})
    interval = options.interval
    if interval is None:
        interval = float(intervals[0]) if intervals else DEFAULT_INTERVAL
    notes = []
    if options.interval is None and len(intervals) > 1:
        notes.append(
            f"the probes have different intervals ({', '.join(f'{i} s' for i in intervals)}); every round probes "
            f"all of them every {interval:g} s, so states count rounds, not each probe's own interval"
        )
    if without_address:
        notes.append(f"{without_address} pool member(s) have no address to probe")
    if not planned:
        notes.append("no rule of the Service has a health probe: the LB sends to every pool member")
    if unprobeable:
        more = f" (and {len(unprobeable) - 1} more)" if len(unprobeable) > 1 else ""
        notes.append(f"not probed: {unprobeable[0]}{more}")
    count = options.count
    if count is None and not options.forever:
        count = default_count(planned)
    source = _source(planned)
    return WatchPlan(
        service=service,
        load_balancer=lb.name,
        probes=planned,
        rules=tuple(rules),
        interval=max(0.0, interval),
        count=count,
        source=source,
        notes=tuple(notes),
        unprobeable=tuple(unprobeable),
    )


def default_count(planned: tuple[PlannedProbe, ...]) -> int:
    """Without ``--count``: one round more than the largest threshold, so that a member whose answer
    changed after the first round has had the chance to flip."""
    return max([p.probe.threshold for p in planned] or [0]) + 1


def _source(planned: tuple[PlannedProbe, ...]) -> str | None:
    # Only an address that may be probed: a host name here would be resolved, by this machine's DNS.
    first = next((m.address for p in planned for m in p.members if target_problem(m.target) is None), None)
    if first is None:
        return None
    from akslbctl.probing.route import local_address_for

    return local_address_for(first)


def vantage_note(source: str | None) -> str:
    """Said once per output: where our probes come from and how that can differ (probe-semantics.md §11)."""
    return (
        f"Probes are sent from {f'{source} (this machine)' if source else 'this machine'}; the LB probes from "
        f"{AZURE_SOURCE}. "
        "NSG rules and host firewalls that treat that source differently, NetworkPolicies against our address, "
        "and kube-proxy's Local-policy DROP (which only off-node sources meet) can make Azure's result differ "
        "from ours."
    )


# -- rounds --------------------------------------------------------------------------------------


class Watch:
    """Plan once, then yield rounds. ``rounds()`` sleeps between rounds; Ctrl-C simply propagates."""

    def __init__(self, case: Case, options: WatchOptions, *, provider_version: str | None = None) -> None:
        self.case = case
        self.options = options
        self.analysis = analyse(case, provider_version=provider_version)
        self.plan = plan(self.analysis, options)
        self._states: dict[tuple[str, str], lbstate.MemberState] = {}
        self._fetch: RuleHealthFetch | None = None
        self._azure: AzureResult | None = None
        self._azure_started: float | None = None

    def rounds(self) -> Iterator[Round]:
        count = self.plan.count
        number = 0
        next_start = time.monotonic()
        self._start_azure()
        while count is None or number < count:
            now = time.monotonic()
            while next_start > now:  # in steps: time.sleep refuses an --interval of 1e300 s
                time.sleep(min(next_start - now, 3600.0))
                now = time.monotonic()
            next_start = time.monotonic() + self.plan.interval
            number += 1
            yield self.run_round(number)

    def run_round(self, number: int) -> Round:
        from akslbctl.deadline import Deadline
        from akslbctl.probing._common import now_rfc3339
        from akslbctl.probing.runner import probe_all

        budget = Deadline.start(self.options.deadline)
        at = now_rfc3339()
        started = time.perf_counter()
        targets = self.plan.targets
        try:
            results = (
                probe_all(
                    targets,
                    timeout=self.options.timeout,
                    concurrency=self.options.concurrency,
                    round_timeout=None if budget.seconds is None else budget.remaining(),
                )
                if targets
                else {}
            )
        except TimeoutError:
            raise budget.exceeded(f"probe round {number}") from None
        elapsed = (time.perf_counter() - started) * 1000
        self._collect_azure(first=number == 1, limit=budget.bound(FIRST_AZURE_WAIT, reserve=0.25))
        return self._round(number, at, elapsed, results)

    # Azure's view: asked in the background, refreshed at most every azure_refresh seconds, and only
    # while it gives something (a 403 stays a 403).

    def _start_azure(self) -> None:
        self._fetch = start_azure_fetch(self.case, self.analysis, self.options.azure)

    def _collect_azure(self, *, first: bool, limit: float = FIRST_AZURE_WAIT) -> None:
        fetch = self._fetch
        if fetch is not None:
            if first and not fetch.done():
                fetch.result(timeout=limit)
            if fetch.done():
                self._azure = fetch.result(timeout=0)
                self._azure_started = fetch.started
                self._fetch = None
            return
        azure = self.options.azure
        if (
            azure is not None
            and self._azure is not None
            and self._azure.view is not None
            and self._azure_started is not None
            and time.monotonic() - self._azure_started >= self.options.azure_refresh
        ):
            self._start_azure()  # picked up by a later round

    def _round(self, number: int, at: str, elapsed: float, results: dict[ProbeTarget, ProbeResult]) -> Round:
        view = self._azure.view if self._azure is not None else None
        probes = []
        disagreements = []
        up_by_probe: dict[str, set[str]] = {}  # probe key → addresses in state up
        unknown_by_probe: dict[str, set[str]] = {}  # probe key → addresses with no state from either source
        # A round in which nothing reached any node says where this machine is, not what the nodes do:
        # such results do not move the LB's state machine (contract §5.1).
        blind = blind_round(results.values())
        for p in self.plan.probes:
            nodes = []
            rule_views = [view.get(r.rule.name.lower(), {}) for r in p.rules] if view else []
            for m in p.members:
                key = (p.key, m.address)
                state = self._states.get(key) or lbstate.initial(p.probe.threshold)
                result = results.get(m.target)
                reach = reached(result, blind=blind)
                if reach:
                    state = lbstate.step(state, result.up)
                self._states[key] = state
                health = next((v[m.address] for v in rule_views if m.address in v), None)
                way = direction(result.up, health) if reach else None
                if way is not None:
                    ours = "ok" if result.up else _outcome(result)
                    disagreements.append(Disagreement(p.rules[0].rule.name, way, m.node, health, ours))
                theirs = azure_state(health)
                lb, lb_from = (theirs, "azure") if theirs else (state.state, "probe" if state.state else None)
                nodes.append(NodeRound(m.node, m.address, result, state, health, way, lb, lb_from))
            probes.append(ProbeRound(p, tuple(nodes)))
            up_by_probe[p.key] = {n.address for n in nodes if n.up}
            unknown_by_probe[p.key] = {n.address for n in nodes if n.lb is None}
        rules = tuple(
            RuleRound(
                r.name,
                next((p.probe.name for p in self.plan.probes if p.key == r.probe_key), None),
                r.members if r.probe_key is None else len(r.addresses & up_by_probe.get(r.probe_key, set())),
                r.members,
                0 if r.probe_key is None else len(r.addresses & unknown_by_probe.get(r.probe_key, set())),
                r.leftover,
            )
            for r in self.plan.rules
        )
        findings = disagreement_findings(
            disagreements,
            service=self.plan.service,
            probes={p.rules[0].rule.name: p.probe for p in self.plan.probes},
            source=self.plan.source,
        )
        notes = (*self.plan.notes, *(self._azure.notes if self._azure is not None else ()))
        age = None
        if self._azure is not None and self._azure.view is not None and self._azure_started is not None:
            age = max(0.0, time.monotonic() - self._azure_started)
        return Round(number, at, elapsed, tuple(probes), rules, tuple(findings), tuple(dict.fromkeys(notes)), age)


def _outcome(result: ProbeResult) -> str:
    return result.outcome if result.status is None else f"{result.outcome} {result.status}"
