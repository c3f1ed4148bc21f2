"""Which cloud-provider-azure (CCM) and Kubernetes behaviours apply, by version (aks-lb-rules.md §6.7, §7.3).

The provider changed its probe algorithm many times, mostly through cherry-picks: a behaviour arrives
in one patch release per branch (``v1.25.17 / v1.26.13 / v1.27.7 / v1.28.0``). :class:`ProviderRules`
turns a version into one switch per behaviour, so that the expectation engine reads like the provider's
code and never compares versions itself.

AKS runs CCM ``v1.X.y`` with Kubernetes ``1.X`` and keeps the patch current, so a cluster version is
mapped to the newest patch of its branch. Kubernetes-side behaviour (which nodes the service controller
hands to the provider, what kube-proxy's health servers check) is carried in the same object because
the pool and probe predictions need both.
"""

from __future__ import annotations

import re
from dataclasses import replace

from akslbctl.records import record

LATEST_PATCH = 9999
"""Patch number standing for "the newest patch of this branch"."""

MASTER_MINOR = 36
"""The minor of the provider's ``master`` line described by aks-lb-rules.md; newer minors map to it."""

FIRST_MODERN = (1, 23, 4)
"""The per-port probe rework (commit 237b65e93); everything older is the legacy algorithm."""

# Per-branch first patch of each cherry-picked behaviour (§6.7), as {minor: first patch}. Branches
# newer than the last entry have the behaviour; older branches, and branches absent from the map
# between entries, do not.
_PER_PORT_PROTOCOL_PORT = {24: 12, 25: 6, 26: 0}
_PROBE_THRESHOLD = {24: 18, 25: 12, 26: 8, 27: 0}
_PLS_PROXY_PROTOCOL = {24: 20, 25: 14, 26: 10, 27: 4, 28: 0}
_LOCAL_HONOURS_ANNOTATIONS = {25: 16, 26: 12, 27: 6, 28: 0}
_LITERAL_PROBE_PORT = {25: 17, 26: 13, 27: 7, 28: 0}
_LOCAL_PER_PORT_OVERRIDE = {25: 19, 26: 15, 27: 9, 28: 1, 29: 0}
_SHARED_PROBE = {28: 5, 29: 0}
_NSG_V2 = {29: 0}
_SHARED_PROBE_DROPPED_ON_LOCAL = {33: 0}

_CCM_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+][0-9A-Za-z.\-+]*)?$")
_KUBE_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+][0-9A-Za-z.\-+]*)?$")

# Pre-1.23 provider release lines and the Kubernetes minor they shipped with.
_OLD_LINES = {(0, 7): 20, (1, 0): 21, (1, 1): 22}


@record(frozen=True)
class ProviderRules:
    """One switch per behaviour that changed across provider and Kubernetes versions.

    ``ccm_version`` is the assumed provider version (patch ``LATEST_PATCH`` = newest of the branch);
    ``kube_version`` the Kubernetes ``(major, minor)`` whose node and kube-proxy behaviour applies.
    """

    name: str
    ccm_version: tuple[int, int, int]
    kube_version: tuple[int, int]
    # --- probe algorithm (CCM) ---
    legacy_probes: bool  # ≤ v1.23.3: global annotations only, Local probe named per rule, 5/2 hard-coded
    app_protocol_honoured: bool  # spec.ports[].appProtocol chooses Http/Https (v1.23.4 on)
    default_request_path: str  # "/healthz" before v1.23.9, "/" since
    unknown_protocol: str  # "verbatim" (legacy: passed to ARM), "error" (v1.23.4–8), "tcp" (v1.23.9 on)
    force_tcp_without_request_path: bool  # v1.23.11+ on the 1.23 branch only
    per_port_protocol_and_port: bool  # port_{p}_health-probe_protocol/_port, no_lb_rule, no_probe_rule
    threshold_field: str  # "numberOfProbes" before, "probeThreshold" since v1.24.18/…/v1.27.0
    local_honours_probe_annotations: bool  # Local probe reads interval/num-of-probe keyed by H
    literal_probe_port: bool  # health-probe_port may be any number, not only a service port
    local_per_port_override: bool  # health-probe_port overrides the Local probe for that port
    pls_proxy_protocol_cluster_probes: bool  # Local + PLS proxy protocol uses Cluster-style probes
    shared_probe_available: bool  # clusterServiceLoadBalancerHealthProbeMode=shared exists
    idle_timeout_max: int  # 30 before v1.25.17/…/v1.28.0, 100 since
    idle_timeout_on_udp: bool  # idle timeout written on every rule, not only TCP (v1.23.4 on)
    nsg_rule_scheme_v2: bool  # k8s-azure-lb_allow_… rules (v1.29.0 on)
    shared_probe_dropped_on_local_switch: bool  # v1.33.0 on
    provider_excludes_not_ready: bool  # provider's own NotReady exclusion (PRs #1195 … #4234)
    # --- Kubernetes ---
    unschedulable_excluded: bool  # service controller dropped cordoned nodes (< 1.19)
    readiness_predicate: bool  # Ready=True is a pool predicate (< 1.27, before StableLoadBalancerNodeSet)
    local_probe_requires_proxy_health: bool  # kube-proxy Local health also needs kube-proxy healthy (≥ 1.27)
    healthz_checks_node_eligibility: bool  # KEP-3836: /healthz fails for deleting/autoscaler-tainted nodes
    # The threshold field an older patch of the same branch wrote, when the provider patch is not known:
    # a cluster's Kubernetes 1.24–1.26 (or an unknown version) does not say whether its CCM predates
    # v1.24.18 / v1.25.12 / v1.26.8, so a probe with only that field, at the expected value, is no drift.
    threshold_alternate: str | None = None

    @property
    def is_master(self) -> bool:
        return self.ccm_version[1] >= MASTER_MINOR


def _since(version: tuple[int, int, int], firsts: dict[int, int]) -> bool:
    """Whether a per-branch cherry-picked behaviour is in ``version``."""
    _, minor, patch = version
    if minor in firsts:
        return patch >= firsts[minor]
    return minor > max(firsts)


def _kube_rules(kube: tuple[int, int]) -> dict[str, bool]:
    """Kubernetes-side switches for a server ``(major, minor)`` (§6.7 lower table, §7.3)."""
    return {
        "unschedulable_excluded": kube < (1, 19),
        "readiness_predicate": kube < (1, 27),
        "local_probe_requires_proxy_health": kube >= (1, 27),
        "healthz_checks_node_eligibility": kube >= (1, 30),
    }


def _build(version: tuple[int, int, int], kube: tuple[int, int], name: str) -> ProviderRules:
    """The switches for one provider version, following the rows of §6.7 in order."""
    legacy = version < FIRST_MODERN
    if legacy:
        unknown = "verbatim"
    elif version < (1, 23, 9):
        unknown = "error"
    else:
        unknown = "tcp"
    return ProviderRules(
        name=name,
        ccm_version=version,
        kube_version=kube,
        legacy_probes=legacy,
        app_protocol_honoured=not legacy,
        default_request_path="/healthz" if version < (1, 23, 9) else "/",
        unknown_protocol=unknown,
        force_tcp_without_request_path=version[1] == 23 and version[2] >= 11,
        per_port_protocol_and_port=_since(version, _PER_PORT_PROTOCOL_PORT),
        threshold_field="probeThreshold" if _since(version, _PROBE_THRESHOLD) else "numberOfProbes",
        local_honours_probe_annotations=_since(version, _LOCAL_HONOURS_ANNOTATIONS),
        literal_probe_port=_since(version, _LITERAL_PROBE_PORT),
        local_per_port_override=_since(version, _LOCAL_PER_PORT_OVERRIDE),
        pls_proxy_protocol_cluster_probes=_since(version, _PLS_PROXY_PROTOCOL),
        shared_probe_available=_since(version, _SHARED_PROBE),
        idle_timeout_max=100 if _since(version, _LITERAL_PROBE_PORT) else 30,
        idle_timeout_on_udp=not legacy,
        nsg_rule_scheme_v2=_since(version, _NSG_V2),
        shared_probe_dropped_on_local_switch=_since(version, _SHARED_PROBE_DROPPED_ON_LOCAL),
        # PR #1195 (2022-02, 1.23 era) added it; PR #4234 (2023-07) removed it before v1.28.0.
        # The exact first 1.23 patch is not known; the whole 1.23 branch is assumed.
        provider_excludes_not_ready=(1, 23, 0) <= version < (1, 28, 0),
        **_kube_rules(kube),
    )


def _master() -> ProviderRules:
    name = f"cloud-provider-azure master (v1.{MASTER_MINOR} line)"
    return _build((1, MASTER_MINOR, LATEST_PATCH), (1, MASTER_MINOR), name)


def rules_for_ccm(version: str) -> ProviderRules:
    """Rules for a provider version: ``"v1.24.10"``, ``"1.24.10"``, ``"1.24"`` (newest patch of the
    branch), ``"latest"`` or ``"master"``.

    Kubernetes behaviour is taken from the minor the provider ships with (CCM v1.X ↔ Kubernetes 1.X;
    v0.7 / v1.0 / v1.1 ↔ 1.20 / 1.21 / 1.22). Versions older than v1.23.4 get the legacy algorithm.
    Raises :class:`ValueError` with a one-line message for anything else.
    """
    text = version.strip()
    if text.lower() in ("latest", "master"):
        return _master()
    match = _CCM_VERSION.match(text)
    if not match:
        raise ValueError(
            f"cannot read cloud-provider-azure version {version!r}: expected v1.X.Y, 1.X.Y, 1.X, latest or master"
        )
    major, minor = int(match[1]), int(match[2])
    patch = int(match[3]) if match[3] is not None else LATEST_PATCH
    if major == 1 and minor >= MASTER_MINOR:
        return _master()
    if (major, minor) in _OLD_LINES:
        # Pre-1.23 release lines: compare them as 1.22 so that every modern switch is off.
        effective, kube_minor = (1, 22, patch), _OLD_LINES[(major, minor)]
    elif major == 1:
        effective, kube_minor = (1, minor, patch), minor
    else:
        raise ValueError(f"unknown cloud-provider-azure version {version!r}: releases are v1.X.Y (or v0.7.Y)")
    shown = f"v{major}.{minor}.{patch}" if match[3] is not None else f"v{major}.{minor} (latest patch)"
    return _build(effective, (1, kube_minor), f"cloud-provider-azure {shown}")


def _parse_kube(server_git_version: str) -> tuple[int, int]:
    match = _KUBE_VERSION.match(server_git_version.strip())
    if not match or int(match[1]) != 1:
        raise ValueError(
            f"cannot read Kubernetes version {server_git_version!r}: expected a gitVersion such as v1.29.4"
        )
    return 1, int(match[2])


def rules_for_cluster(server_git_version: str | None) -> ProviderRules:
    """Rules for an AKS cluster from its Kubernetes ``/version`` gitVersion (``"v1.28.3-aks.1"``).

    AKS runs CCM v1.X with Kubernetes 1.X at the newest patch, so 1.X maps to ``rules_for_ccm("1.X")``.
    Minors beyond the table (≥ the master line) and ``None`` (version unknown) map to master.
    Kubernetes ≤ 1.22: the provider build AKS ran is not known (§6.7); akslbctl assumes the newest
    1.23-branch provider, whose 1.23.11+ guard matches the project website's statement that for
    clusters ≤ 1.23 appProtocol is used only together with a request path. Clusters that ran an early
    2022 build behaved like v1.23.9 instead (no guard); pass an explicit CCM version for those.
    """
    if server_git_version is None:
        return replace(_master(), threshold_alternate="numberOfProbes")
    kube = _parse_kube(server_git_version)
    minor = kube[1]
    if minor >= MASTER_MINOR:
        return replace(_master(), kube_version=kube, **_kube_rules(kube))
    if minor >= 23:
        rules = rules_for_ccm(f"1.{minor}")
        if minor in _PROBE_THRESHOLD and _PROBE_THRESHOLD[minor] > 0:
            # The branch changed fields at a patch the cluster's version does not tell (§6.6, §6.7).
            rules = replace(rules, threshold_alternate="numberOfProbes")
        return rules
    return _build(
        (1, 23, LATEST_PATCH),
        kube,
        f"cloud-provider-azure v1.23 (latest patch; assumed for Kubernetes 1.{minor})",
    )


def with_kubernetes(rules: ProviderRules, server_git_version: str) -> ProviderRules:
    """The same provider rules with the Kubernetes behaviour of another server version.

    For a provider version given explicitly while the cluster's own version is known.
    """
    kube = _parse_kube(server_git_version)
    return replace(rules, kube_version=kube, **_kube_rules(kube))
