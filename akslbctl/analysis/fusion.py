"""Evidence fusion: the LB's verdict for one pool member, from Azure's view and our own probe.

Contract §5.1. ``verdict`` answers "will the Azure LB send this node traffic for this rule?", from
three sources in this order of authority:

1. Azure's own view (ARM rule health) when it holds a state for the member: it *is* the LB's verdict.
2. Our probe, when this machine reached the node: the LB's rule applied to what we saw.
3. Neither: ``unknown``.

A probe that could not reach the node from here (no route, or a round in which every probe timed
out) says something about this machine's position, never that the node is down. ``reason`` explains
the verdict from all the evidence: our probe's outcome where it agrees with Azure, else one of the
fusion reasons below. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable

from akslbctl.model import probe as outcomes
from akslbctl.model.probe import ProbeResult
from akslbctl.model.report import DOWN, UNKNOWN, UP, AzureHealth
from akslbctl.records import record

# Fusion reasons (contract §5.1), beside the probe outcomes of §5.
BLOCKED_BEFORE_NODE = "blocked-before-node"
AZURE_DOWN = "azure-down"
AZURE_UP = "azure-up"
UNREACHABLE_FROM_HERE = "unreachable-from-here"

FUSION_REASONS = (BLOCKED_BEFORE_NODE, AZURE_DOWN, AZURE_UP, UNREACHABLE_FROM_HERE)

AZURE_SOURCE = "168.63.129.16"

# Reasons whose Down is not about the probe reaching the node (admin, platform, recovering).
_DOWN_NOT_BLOCKED = {"Down_Admin", "Down_Platform", "Down_Probe_ApproachingHealthyThreshold"}

AZURE_WORDS = {
    "Up_Probe_Success": "Up, its probe succeeds",
    "Up_Probe_AllDownIsUp": "Up because every member is down (noHealthyBackendsBehavior AllProbedUp)",
    "Up_Probe_ApproachingUnhealthyThreshold": "Up, but its probes are failing (threshold not yet reached)",
    "Up_Admin": "Up by admin state",
    "Up_Platform": "Up, decided by the platform",
    "Down_Probe_ApproachingHealthyThreshold": "Down, its probes succeed again (threshold not yet reached)",
    "Down_Probe_HttpStatusCodeError": "Down, its HTTP probe gets a status other than 200",
    "Down_Probe_HttpEndpointUnreachable": "Down, its HTTP probe cannot reach the endpoint",
    "Down_Probe_HttpNoResponse": "Down, its HTTP probe gets no answer in time",
    "Down_Probe_TcpProbeTimeout": "Down, its TCP probe gets no answer",
    "Down_Probe_NoHealthyBackend": "Down, no healthy backend behind it",
    "Down_Admin": "Down by admin state",
    "Down_Platform": "Down, decided by the platform",
}


def azure_words(health: AzureHealth) -> str:
    """Azure's state and reason code in words: ``Down, its TCP probe gets no answer``."""
    if health.reason in AZURE_WORDS:
        return AZURE_WORDS[health.reason]
    state = health.state or "no state"
    return f"{state} ({health.reason})" if health.reason else state


def azure_state(health: AzureHealth | None) -> str | None:
    """``up``/``down`` when Azure holds a state for the member, else None (VM off, not probed yet)."""
    if health is None or not health.state:
        return None
    state = health.state.strip().lower()
    return state if state in (UP, DOWN) else None


# -- did our probe reach the node? --------------------------------------------------------------


def blind_round(results: Iterable[ProbeResult]) -> bool:
    """Every probe of the round timed out or found no route: this machine reached no node at all.

    That is this machine's position (a laptop without VNet access), not an outage (contract §5.1).
    An empty round is not blind: nothing was tried.
    """
    seen = False
    for r in results:
        seen = True
        if r.outcome not in (outcomes.TIMEOUT, outcomes.UNREACHABLE):
            return False
    return seen


def reached(result: ProbeResult | None, *, blind: bool) -> bool | None:
    """True when our probe got an answer from the node (any answer, a refusal included); False when
    it could not tell (no route; a timeout in a blind round); None when no probe ran."""
    if result is None:
        return None
    if result.outcome == outcomes.UNREACHABLE:
        return False
    return not (result.outcome == outcomes.TIMEOUT and blind)


# -- the verdict ------------------------------------------------------------------------------


@record(frozen=True)
class Own:
    """What our probe alone says of a member: the LB's rule applied to what this machine saw."""

    verdict: str  # up | down | unknown
    reason: str
    detail: str


@record(frozen=True)
class Fused:
    verdict: str
    reason: str
    detail: str


def fuse(
    own: Own,
    reach: bool | None,
    health: AzureHealth | None,
    *,
    source: str | None = None,
    blocked_by: str | None = None,
    ipv6: bool = False,
) -> Fused:
    """The LB's verdict for one member (contract §5.1).

    ``own``: our probe's verdict (``unknown``/``not-probed`` when none ran); ``reach``: see
    :func:`reached`; ``health``: Azure's view of the member; ``source``: the address our probes left
    from; ``blocked_by``: what the network-path evaluation found in the way of Azure's probe (an NSG
    rule, a Private Link Service's PROXY header), named in the detail of ``blocked-before-node``;
    ``ipv6``: the member is probed on IPv6, whose probes come from a link-local source.
    """
    here = f"from {source}" if source else "from this machine"
    state = azure_state(health)
    if state == UP:
        if reach and own.verdict == UP:
            return Fused(UP, own.reason, own.detail)
        words = azure_words(health)
        if reach and own.verdict == DOWN:
            return Fused(UP, AZURE_UP, f"Azure: {words}; our probe {here} fails: {own.detail}")
        if reach is False:
            return Fused(UP, AZURE_UP, f"Azure: {words}; our probe could not reach the node {here} ({own.detail})")
        return Fused(UP, AZURE_UP, f"Azure: {words}; not probed {here}")
    if state == DOWN:
        words = azure_words(health)
        if reach and own.verdict == DOWN:
            return Fused(DOWN, own.reason, own.detail)
        if reach and own.verdict == UP:
            if (health.reason or "") in _DOWN_NOT_BLOCKED:
                return Fused(DOWN, AZURE_DOWN, f"Azure: {words}; our probe {here} succeeds ({own.detail})")
            origin = "the LB's IPv6 probe (from a link-local source)" if ipv6 else f"the probe from {AZURE_SOURCE}"
            text = (
                f"Azure: {words}, while our probe {here} succeeds ({own.detail}): {origin} is dropped before the "
                "node answers"
            )
            return Fused(DOWN, BLOCKED_BEFORE_NODE, text + (f" — {blocked_by}" if blocked_by else ""))
        if reach is False:
            return Fused(DOWN, AZURE_DOWN, f"Azure: {words}; our probe could not reach the node {here} ({own.detail})")
        return Fused(DOWN, AZURE_DOWN, f"Azure: {words}; not probed {here}")
    if reach is False:
        return Fused(
            UNKNOWN,
            UNREACHABLE_FROM_HERE,
            f"our probe could not reach the node {here} ({own.detail}) and Azure's view is not available: no verdict",
        )
    return Fused(own.verdict, own.reason, own.detail)
