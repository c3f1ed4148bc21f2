"""What a diagnosis says: per rule, per node verdicts with reasons, and findings (contract §5)."""

from __future__ import annotations

from akslbctl.model.azure import LoadBalancer, Probe
from akslbctl.model.kube import Service
from akslbctl.model.probe import ProbeResult
from akslbctl.records import record

# Verdicts and the reasons that are not probe outcomes (probe outcomes double as reasons).
UP, DOWN, ABSENT, UNKNOWN = "up", "down", "absent", "unknown"
PROBE_OK = "probe-ok"
RULE_WITHOUT_PROBE = "rule-without-probe"
NOT_IN_BACKEND_POOL = "not-in-backend-pool"
NOT_PROBED = "not-probed"

ERROR, WARNING, INFO = "error", "warning", "info"


@record(frozen=True)
class AzureHealth:
    """The LB's own view of one backend address (ARM rule-health API)."""

    state: str | None  # Up | Down | None (not probed yet, VM off)
    reason: str | None  # e.g. Down_Probe_HttpStatusCodeError


@record(frozen=True)
class NodeVerdict:
    node: str
    address: str | None
    in_pool: bool
    verdict: str
    reason: str
    detail: str
    expected: str | None  # "up" | "down" | None: what cluster state predicts for the probe
    observed: ProbeResult | None = None
    azure: AzureHealth | None = None
    reached: bool | None = None  # our probe got an answer from the node (None: no probe ran)


@record(frozen=True)
class RuleDiagnosis:
    name: str
    protocol: str
    frontend_port: int
    backend_port: int
    frontend_ip: str | None
    probe: Probe | None
    probe_why: str | None  # why the provider would configure this probe (or no probe)
    nodes: tuple[NodeVerdict, ...]
    leftover: bool = False  # matches no port of the Service as it is now (drift: stale-rule): carries no traffic

    @property
    def up(self) -> int:
        return sum(1 for n in self.nodes if n.verdict == UP)

    @property
    def down(self) -> int:
        return sum(1 for n in self.nodes if n.verdict == DOWN)

    @property
    def known(self) -> bool:
        """At least one node has a verdict from a probe result (or a rule without probe)."""
        return any(n.verdict in (UP, DOWN) for n in self.nodes)


@record(frozen=True)
class Finding:
    code: str
    severity: str  # error | warning | info
    message: str
    rule: str | None = None
    node: str | None = None


@record(frozen=True)
class EventReport:
    """One Event about the Service as a diagnosis shows it (message masked; ARM error parsed)."""

    reason: str
    type: str
    count: int
    last_seen: str | None
    message: str
    status: int | None = None  # HTTP status of the ARM error the message carries
    code: str | None = None  # ARM error code
    resource: str | None = None
    cls: str | None = None  # the failure class (permission, quota, …); None for other events


@record(frozen=True)
class Diagnosis:
    service: Service
    load_balancer: LoadBalancer | None
    frontends: tuple[tuple[str, str | None], ...]  # (frontend name, IP)
    rules: tuple[RuleDiagnosis, ...]
    findings: tuple[Finding, ...]
    provider: str  # the provider rule set the expectation used
    probe_mode: str  # servicenodeport | shared
    probed: bool  # probe results (live or recorded) were available
    vantage: str | None = None  # where the probes came from
    notes: tuple[str, ...] = ()
    source: str | None = None  # the address this machine's probes left from (None: no route, or not probed)
    events: tuple[EventReport, ...] | None = None  # the Service's Events, newest first (None: not read)
    shares: tuple = ()  # analysis.share.RuleShare per rule: the expected split of traffic (C17)

    @property
    def serving_rules(self) -> tuple[RuleDiagnosis, ...]:
        """The rules that carry the Service's traffic: every rule but the leftovers (``stale-rule``).

        A leftover rule is drift, told by its warning; it never makes the Service dark nor counts in
        its up/down figures.
        """
        return tuple(r for r in self.rules if not r.leftover)

    @property
    def all_unknown(self) -> bool:
        """Contract §5.1: every pool member of every rule is ``unknown`` — the evidence could not be had."""
        members = [n for r in (self.serving_rules or self.rules) for n in r.nodes if n.in_pool]
        return bool(members) and all(n.verdict == UNKNOWN for n in members)

    @property
    def provisioning_failed(self) -> bool:
        """Contract §5.2: the provider reported why it has not built the Service's LB."""
        return any(f.code == "provisioning-failed" for f in self.findings)

    @property
    def no_evidence(self) -> bool:
        """Contract §4 exit 3: no LB and no event that explains it (§5.2), or no verdict for any pool
        member while nothing wrong was found for certain (§5.1)."""
        if self.load_balancer is None:
            return not self.provisioning_failed
        return self.all_unknown and not self.has_error

    @property
    def has_error(self) -> bool:
        return any(f.severity == ERROR for f in self.findings)

    @property
    def healthy(self) -> bool:
        """Contract §4 exit 0: every rule has a node the LB treats as up, and no error finding."""
        if self.has_error:
            return False
        return all(r.up > 0 for r in self.serving_rules if r.known)


# -- diff (contract §6) ---------------------------------------------------------------------------

PRESENCE = "presence"
"""The ``field`` of a difference about a whole object: missing (expected true) or extra (expected false)."""

DIFF_KINDS = ("frontend", "rule", "probe", "backend-pool", "service")
"""``service``: an annotation the provider rejects, so its reconcile fails and the LB stays as it was."""


@record(frozen=True)
class Difference:
    """One field where the LB differs from what the cloud provider would configure.

    ``field`` is the ARM property name (``port``, ``requestPath``, ``backendPort`` …), ``presence`` for
    a missing or extra object, the pool's member list property for a node missing from / extra in a
    backend pool, or the annotation key for a ``service`` difference. ``expected``/``actual`` are JSON
    scalars (None when the side has no value).
    """

    kind: str
    name: str
    field: str
    expected: str | int | bool | None
    actual: str | int | bool | None
    message: str  # one plain line on why it matters


@record(frozen=True)
class LoadBalancerDiff:
    service: Service
    load_balancer: LoadBalancer | None
    differences: tuple[Difference, ...]
    provider: str  # the provider rule set the expectation used
    probe_mode: str  # servicenodeport | shared
    reconcile_failing: bool = False  # an annotation makes the provider's reconcile fail
    notes: tuple[str, ...] = ()
    not_found_why: str = ""  # with no LB: "; <the LB not adopted and why>" (or nothing)
    # what the provider's Events say (provisioning-failed / reconcile-failing, §5.2): why objects are missing
    findings: tuple[Finding, ...] = ()

    @property
    def provisioning_failed(self) -> bool:
        return any(f.code == "provisioning-failed" for f in self.findings)

    @property
    def drift(self) -> bool:
        """Contract §4 for diff: exit 1 when there is any difference, 0 when there is none."""
        return bool(self.differences)
