"""Case files (contract §7): write one, read one, or read a folder of raw ``kubectl``/``az`` dumps.

In support the engineer often cannot reach the customer's cluster; the customer runs commands and sends
files. Whatever arrives — a case file written by ``akslbctl capture`` or the plain output of ``kubectl
get … -o json`` and ``az network … -o json`` — becomes a :class:`~akslbctl.model.case.Case` through the
same normaliser and :func:`akslbctl.collect.case_from_raw` as live evidence, so the analysis cannot tell
the difference.

Every problem with the input is a :class:`~akslbctl.errors.CaseFileError` (exit 2): one line that names
the file and the field at fault. No bytes, however random, produce a traceback, and reads are bounded.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field
from typing import Any

from akslbctl.errors import CaseFileError, UsageError
from akslbctl.model.case import Case, RawDocuments
from akslbctl.model.probe import FAILED_OUTCOMES, OK, ProbeResult, ProbeTarget
from akslbctl.model.report import AzureHealth
from akslbctl.records import record
from akslbctl.sources import normalize

API_VERSION = "akslbctl/v1alpha1"
KIND = "Case"
MAX_FILE_BYTES = 512 * 1024 * 1024  # a 5,000-node `kubectl get nodes -o json` is ~100 MiB at most

OUTCOMES = (OK, *FAILED_OUTCOMES)
_PROTOCOLS = {"tcp": "Tcp", "http": "Http", "https": "Https"}
_SERVICE_NAME_LABEL = "kubernetes.io/service-name"
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

# File names in a dump folder (lower-cased, without .json) and the kind each one holds. The content
# decides in the end (a List's items carry their kind, ARM objects their type); the name is the fallback
# for objects that carry neither, and a name that promises one kind must not hold another.
_ROLES = {
    **dict.fromkeys(("service", "services", "svc"), "Service"),
    **dict.fromkeys(("nodes", "node"), "Node"),
    **dict.fromkeys(
        ("endpointslices", "endpointslice", "endpoint-slices", "endpoint_slices", "eps", "slices"), "EndpointSlice"
    ),
    **dict.fromkeys(("loadbalancers", "loadbalancer", "load-balancers", "load_balancers", "lb", "lbs"), "LoadBalancer"),
    **dict.fromkeys(
        ("publicips", "publicip", "public-ips", "public_ips", "publicipaddresses", "pip", "pips"), "PublicIPAddress"
    ),
    **dict.fromkeys(("networkinterfaces", "networkinterface", "network-interfaces", "nics", "nic"), "NetworkInterface"),
    **dict.fromkeys(
        ("nsgs", "nsg", "networksecuritygroups", "network-security-groups", "securitygroups"), "NetworkSecurityGroup"
    ),
    **dict.fromkeys(("subnets", "subnet"), "Subnet"),
    **dict.fromkeys(("vnets", "vnet", "virtualnetworks", "virtual-networks"), "VirtualNetwork"),
    **dict.fromkeys(
        ("privatelinkservices", "private-link-services", "pls", "privatelinkservice"), "PrivateLinkService"
    ),
    **dict.fromkeys(("version", "kubectl-version", "server-version", "versions"), "Version"),
    **dict.fromkeys(("events", "event"), "Event"),
    "probes": "Probes",
    **dict.fromkeys(("pods", "pod"), "Pod"),
    **dict.fromkeys(
        ("networkpolicies", "networkpolicy", "network-policies", "netpol", "netpols", "ciliumnetworkpolicies", "cnp"),
        "NetworkPolicy",
    ),
}
_ARM_KINDS = {
    "microsoft.network/loadbalancers": "LoadBalancer",
    "microsoft.network/publicipaddresses": "PublicIPAddress",
    "microsoft.network/networkinterfaces": "NetworkInterface",
    "microsoft.network/networksecuritygroups": "NetworkSecurityGroup",
    "microsoft.network/virtualnetworks/subnets": "Subnet",
    "microsoft.network/virtualnetworks": "VirtualNetwork",
    "microsoft.network/privatelinkservices": "PrivateLinkService",
}
_HOW_TO_SAVE = {
    "Service": "kubectl get svc NAME -n NAMESPACE -o json > service.json",
    "Node": "kubectl get nodes -o json > nodes.json",
    "LoadBalancer": "az network lb list -g NODE_RESOURCE_GROUP -o json > loadbalancers.json",
}


# ---------------------------------------------------------------------------------------------
# Writing


def scrub(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A Kubernetes object without ``managedFields``, the last-applied annotation and a Node's image list.

    managedFields is volatile noise; the last-applied annotation holds whatever the user once applied,
    which may be more than akslbctl needs (and more than the customer means to send). ``status.images``
    (the images cached on a Node) is most of a Node's bytes, changes all the time and says nothing about
    load balancing: without it a 5,000-node case file is a quarter of the size and loads that much faster.
    """
    out = dict(doc)
    status = out.get("status")
    if isinstance(status, Mapping) and "images" in status:
        out["status"] = {k: v for k, v in status.items() if k != "images"}
    meta = out.get("metadata")
    if isinstance(meta, Mapping):
        meta = {k: v for k, v in meta.items() if k != "managedFields"}
        annotations = meta.get("annotations")
        if isinstance(annotations, Mapping) and _LAST_APPLIED in annotations:
            meta["annotations"] = {k: v for k, v in annotations.items() if k != _LAST_APPLIED}
        out["metadata"] = meta
    return out


def probe_entry(result: ProbeResult, node: str | None, at: str | None = None) -> dict[str, Any]:
    """One recorded probe result as a §7 ``probes`` entry."""
    return {
        "node": node,
        "target": result.target.url,
        "outcome": result.outcome,
        "status": result.status,
        "latencyMs": None if result.latency_ms is None else round(result.latency_ms, 3),
        "localEndpoints": result.local_endpoints,
        "at": result.at or at,
        "error": result.error,
        "server": result.server,
        "bodyExcerpt": result.body_excerpt,
    }


def azure_entries(
    view: Mapping[str, Mapping[str, AzureHealth]] | None, rule_names: Iterable[str]
) -> dict[str, dict[str, dict[str, str | None]]] | None:
    """Azure's view as the case file's ``azureHealth``: rule name → member address → {state, reason}."""
    if view is None:
        return None
    names = {n.lower(): n for n in rule_names}
    return {
        names.get(rule, rule): {addr: {"state": h.state, "reason": h.reason} for addr, h in members.items()}
        for rule, members in view.items()
    }


def case_document(
    case: Case,
    *,
    probes: Sequence[Mapping[str, Any]],
    captured_at: str,
    akslbctl_version: str,
    azure: Mapping[str, Any] | None = None,
    azure_notes: Sequence[str] = (),
    source: str | None = None,
) -> dict[str, Any]:
    """The §7 document for a live case: raw API answers (scrubbed), one round of probe results, Azure's
    view (``azure``: as :func:`azure_entries` writes it), the probe source and the network path read."""
    raw = case.raw
    if raw is None:
        raise ValueError("a case file needs the raw documents the case was built from")
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "akslbctl": akslbctl_version,
        "capturedAt": captured_at,
        "clusterVersion": dict(raw.version) if raw.version else None,
        "subscription": case.subscription,
        "resourceGroup": case.resource_group,
        "service": scrub(raw.service),
        "nodes": [scrub(d) for d in raw.nodes],
        "endpointSlices": [scrub(d) for d in raw.endpoint_slices] if raw.endpoints_read else None,
        "loadBalancers": list(raw.load_balancers),
        "publicIPAddresses": list(raw.public_ips),
        "networkInterfaces": list(raw.network_interfaces),
        "securityGroups": list(raw.security_groups),
        "virtualNetworks": list(raw.virtual_networks),
        "subnets": list(raw.subnets),
        "privateLinkServices": list(raw.private_link_services),
        "networkNotes": list(case.network_notes),
        "events": None if raw.events is None else [scrub(d) for d in raw.events],
        "eventsNote": case.events_note,
        "instanceViews": list(raw.instance_views),
        **_workload_keys(raw),
        "probes": [dict(p) for p in probes],
        "vantage": {"source": source},
        "azureHealth": None if azure is None else dict(azure),
        "azureHealthNotes": list(azure_notes),
    }


def write_document(path: str, doc: Mapping[str, Any], *, secrets: Iterable[str] = (), deadline: Any = None) -> int:
    """Write ``doc`` to ``path`` atomically (temp file + rename), mode 0600; returns the size in bytes.

    ``secrets`` (credentials of the run) are masked should any answer ever have echoed one.
    """
    from akslbctl.masking import mask

    text = mask(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", secrets)
    # A lone UTF-16 surrogate (an API or a case file may carry "\ud800" escapes) cannot be UTF-8: written
    # back as the same JSON escape, the document stays valid and reads back exactly.
    data = text.encode("utf-8", "backslashreplace")
    return write_file(path, data, deadline=deadline)


def write_file(path: str, data: bytes, *, timeout: float = 10.0, deadline: Any = None) -> int:
    """The one writer of files the user names (case files, ``--svg`` pictures); returns the size.

    A regular file (or a new one) is written atomically: temp file + rename, mode 0600 — a symbolic
    link planted at the path is replaced, never followed. A character device or a FIFO (``/dev/null``,
    ``/dev/stdout``, a named pipe) is never replaced: it is written through, without blocking — a FIFO
    nobody reads, or one that stops reading for ``timeout`` seconds, is one clear error. Anything else
    (a folder, a socket, a block device) is refused. Errors are :class:`CaseFileError` (exit 2).

    ``deadline`` (the command's :class:`akslbctl.deadline.Deadline`, optional) bounds the wait too: a
    reader that is still not done when it passes ends the write with the deadline's own line (exit 3).
    """
    import stat

    target = os.path.abspath(os.path.expanduser(path))
    try:
        st = os.stat(target)  # what the path finally names (through a link)
    except OSError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise CaseFileError(f"{path}: is a folder", hint="name the file to write, e.g. -f case.json")
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        return _write_through(path, target, data, timeout, deadline)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise CaseFileError(f"{path}: is not a regular file (a socket or a block device): not written")
    folder = os.path.dirname(target)
    try:
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise CaseFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise CaseFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return len(data)


def _write_through(path: str, target: str, data: bytes, timeout: float, deadline: Any = None) -> int:
    """Write ``data`` into a character device or a FIFO, never blocking longer than ``timeout``."""
    import errno
    import select
    import time

    try:
        fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise CaseFileError(f"cannot write {path}: it is a pipe nobody reads") from None
        raise CaseFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        view, done, give_up = memoryview(data), 0, time.monotonic() + timeout
        while done < len(view):
            try:
                done += os.write(fd, view[done : done + 65536])
                continue
            except BlockingIOError:
                pass
            left = give_up - time.monotonic()
            if deadline is not None and deadline.remaining() < left:
                if not select.select([], [fd], [], deadline.remaining())[1]:
                    from akslbctl.errors import DeadlineExceeded

                    raise DeadlineExceeded(
                        f"writing {path} did not finish within the {deadline.seconds:g} s deadline",
                        hint="its reader stopped reading; allow more time with --deadline",
                    )
                continue
            if left <= 0 or not select.select([], [fd], [], left)[1]:
                raise CaseFileError(f"cannot write {path}: its reader stopped reading for {timeout:g} s")
    except OSError as exc:
        raise CaseFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return len(data)


# ---------------------------------------------------------------------------------------------
# Reading: one entry point for a case file or a dump folder


@record(frozen=True)
class Scope:
    """What the caller already knows or insists on (flags): they win over what the files say."""

    name: str | None = None
    namespace: str | None = None
    subscription: str | None = None
    resource_group: str | None = None


def load(path: str, scope: Scope | None = None) -> Case:
    """The offline Case from a case file or a folder of raw dumps (contract §7)."""
    scope = scope or Scope()
    if not path:
        raise CaseFileError("-f needs a case file or a folder of raw dumps")
    label = path
    real = os.path.expanduser(path)
    try:
        st = os.stat(real)
    except FileNotFoundError:
        raise CaseFileError(f"{label}: no such file or folder") from None
    except OSError as exc:
        raise CaseFileError(f"{label}: cannot read: {exc.strerror or exc}") from None
    with _collector_paused():
        if stat.S_ISDIR(st.st_mode):
            return read_folder(real, scope, label=label)
        return read_case_file(real, scope, label=label)


@contextlib.contextmanager
def _collector_paused():
    """Pause the cyclic garbage collector while a large document is parsed and normalised.

    JSON builds millions of containers and no cycles; the collector's passes over them double the time
    a 5,000-node dump takes to load. Reference counting still frees everything.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_case_file(path: str, scope: Scope | None = None, *, label: str | None = None) -> Case:
    label = label or path
    doc = parse_json(read_bytes(path, label), label)
    return case_from_document(doc, label, scope or Scope())


def _workload_keys(raw: RawDocuments) -> dict[str, Any]:
    """``pods``, ``networkPolicies``, ``workloadNotes`` (issue 12); left out when they were not read."""
    out: dict[str, Any] = {}
    if raw.pods is not None:
        out["pods"] = [scrub(d) for d in raw.pods]
    if raw.network_policies is not None:
        out["networkPolicies"] = [scrub(d) for d in raw.network_policies]
    if raw.pods is not None or raw.network_policies is not None:
        out["workloadNotes"] = list(raw.workload_notes)
    return out


def case_from_document(doc: Any, label: str, scope: Scope) -> Case:
    """A Case from a parsed §7 document; ``label`` names its file in errors."""
    if not isinstance(doc, dict):
        raise CaseFileError(
            f"{label}: expected a case document (a JSON object with kind: Case), got {_a(doc)}",
            hint="for raw kubectl/az dumps pass the folder that holds them",
        )
    kind = doc.get("kind")
    if kind != KIND:
        hint = "write one with akslbctl capture, or pass the folder of raw dumps"
        if isinstance(kind, str) and kind:
            hint = "for raw kubectl/az dumps pass the folder that holds them, not one file"
        raise CaseFileError(f"{label}: kind: expected {KIND}, got {_shown(kind)}", hint=hint)
    version = doc.get("apiVersion")
    if version != API_VERSION:
        raise CaseFileError(
            f"{label}: apiVersion: expected {API_VERSION}, got {_shown(version)}",
            hint="this akslbctl reads akslbctl/v1alpha1 case files; capture the case again with it",
        )
    with _shape_errors(label):
        service_doc = _obj_field(doc, "service")
        raw = RawDocuments(
            service=service_doc,
            nodes=tuple(_obj_items(doc, "nodes")),
            endpoint_slices=tuple(_obj_items(doc, "endpointSlices")),
            endpoints_read=doc.get("endpointSlices") is not None,
            load_balancers=tuple(_obj_items(doc, "loadBalancers")),
            public_ips=tuple(_obj_items(doc, "publicIPAddresses")),
            network_interfaces=tuple(_obj_items(doc, "networkInterfaces")),
            version=_version_doc(doc.get("clusterVersion"), "clusterVersion"),
            security_groups=tuple(_obj_items(doc, "securityGroups")),
            virtual_networks=tuple(_obj_items(doc, "virtualNetworks")),
            subnets=tuple(_obj_items(doc, "subnets")),
            private_link_services=tuple(_obj_items(doc, "privateLinkServices")),
            events=None if doc.get("events") is None else tuple(_obj_items(doc, "events")),
            instance_views=tuple(_obj_items(doc, "instanceViews")),
            pods=tuple(_obj_items(doc, "pods")) if doc.get("pods") is not None else None,
            network_policies=tuple(_obj_items(doc, "networkPolicies"))
            if doc.get("networkPolicies") is not None
            else None,
            workload_notes=tuple(_str_items(doc, "workloadNotes")),
        )
        evidence = _Evidence(label=label)
        evidence.service = normalize.service(service_doc, "service")
        _check_service(evidence.service, scope, label)
        own = evidence.ownership = _ownership(evidence.service)
        evidence.nodes = [
            n for i, d in enumerate(raw.nodes) if (n := _lenient(normalize.node, d, f"nodes[{i}]", own))
        ]
        evidence.slices = [(d, f"endpointSlices[{i}]") for i, d in enumerate(raw.endpoint_slices)]
        evidence.lbs = [
            lb
            for i, d in enumerate(raw.load_balancers)
            if (lb := _lenient(normalize.load_balancer, d, f"loadBalancers[{i}]", own, ownership=own))
        ]
        evidence.pips = [
            p
            for i, d in enumerate(raw.public_ips)
            if (p := _lenient(normalize.public_ip, d, f"publicIPAddresses[{i}]", own))
        ]
        evidence.nics = [
            n
            for i, d in enumerate(raw.network_interfaces)
            if (n := _lenient(normalize.network_interface, d, f"networkInterfaces[{i}]", own))
        ]
        recorded = recorded_probes(doc.get("probes"), "probes")
        subscription = normalize._str(doc.get("subscription"), "subscription")
        resource_group = normalize._str(doc.get("resourceGroup"), "resourceGroup")
        evidence.azure = recorded_azure(doc.get("azureHealth"), "azureHealth")
        evidence.azure_notes = tuple(_str_items(doc, "azureHealthNotes"))
        evidence.network_notes = tuple(_str_items(doc, "networkNotes"))
        vantage = normalize._obj(doc.get("vantage"), "vantage")
        evidence.source = normalize._str(vantage.get("source"), "vantage.source")
        evidence.events_note = normalize._str(doc.get("eventsNote"), "eventsNote")
        evidence.observed_at = normalize._str(doc.get("capturedAt"), "capturedAt")
    return evidence.case(raw, scope, recorded, subscription, resource_group)


def recorded_azure(value: Any, path: str) -> dict[str, dict[str, AzureHealth]] | None:
    """``azureHealth`` → Azure's view as analysis reads it (rule names lower-cased); None when absent."""
    if value is None:
        return None
    out: dict[str, dict[str, AzureHealth]] = {}
    for rule, members in normalize._obj(value, path, optional=False).items():
        rp = f"{path}.{rule}"
        entries: dict[str, AzureHealth] = {}
        for address, entry in normalize._obj(members, rp, optional=False).items():
            ep = f"{rp}.{address}"
            entry = normalize._obj(entry, ep, optional=False)
            entries[str(address)] = AzureHealth(
                state=normalize._str(entry.get("state"), f"{ep}.state") or None,
                reason=normalize._str(entry.get("reason"), f"{ep}.reason") or None,
            )
        out[str(rule).lower()] = entries
    return out


def _str_items(doc: Mapping[str, Any], key: str) -> list[str]:
    return [normalize._str(v, f"{key}[{i}]", optional=False) for i, v in enumerate(normalize._list(doc.get(key), key))]


def recorded_probes(value: Any, path: str) -> tuple[ProbeResult, ...]:
    """§7 ``probes`` entries → ProbeResults whose targets match the probe plan's (``ProbeTarget.url``)."""
    out = []
    for i, entry in enumerate(normalize._list(value, path)):
        p = f"{path}[{i}]"
        entry = normalize._obj(entry, p, optional=False)
        target = parse_target(normalize._str(entry.get("target"), f"{p}.target", optional=False), f"{p}.target")
        outcome = normalize._str(entry.get("outcome"), f"{p}.outcome", optional=False)
        if outcome not in OUTCOMES:
            raise normalize.ShapeError(f"{p}.outcome", f"expected one of {', '.join(OUTCOMES)}, got {outcome!r}")
        latency = entry.get("latencyMs")
        if latency is not None and (
            isinstance(latency, bool) or not isinstance(latency, (int, float)) or not math.isfinite(latency)
        ):
            raise normalize.ShapeError(f"{p}.latencyMs", f"expected a number, got {_a(latency)}")
        out.append(
            ProbeResult(
                target=target,
                outcome=outcome,
                status=normalize._int(entry.get("status"), f"{p}.status"),
                latency_ms=None if latency is None else float(latency),
                local_endpoints=normalize._int(entry.get("localEndpoints"), f"{p}.localEndpoints"),
                error=normalize._str(entry.get("error"), f"{p}.error"),
                at=normalize._str(entry.get("at"), f"{p}.at"),
                server=normalize._str(entry.get("server"), f"{p}.server"),
                body_excerpt=normalize._str(entry.get("bodyExcerpt"), f"{p}.bodyExcerpt"),
            )
        )
    return tuple(out)


def parse_target(text: str, path: str) -> ProbeTarget:
    """``tcp://10.0.0.4:30396``, ``http://10.0.0.4:32649/healthz``, ``https://[fd00::4]:443/`` → ProbeTarget.

    The inverse of :attr:`ProbeTarget.url`, so that recorded results meet the plan's targets exactly.
    """
    scheme, sep, rest = text.partition("://")
    protocol = _PROTOCOLS.get(scheme.lower()) if sep else None
    if protocol is None:
        raise normalize.ShapeError(path, f"expected tcp://ADDRESS:PORT or http(s)://ADDRESS:PORT/PATH, got {text!r}")
    if rest.startswith("["):
        host, bracket, rest = rest[1:].partition("]")
        if not bracket:
            raise normalize.ShapeError(path, f"unclosed '[' in {text!r}")
    else:
        i = rest.find(":")
        host, rest = (rest, "") if i < 0 else (rest[:i], rest[i:])
    if not host or not rest.startswith(":"):
        raise normalize.ShapeError(path, f"expected ADDRESS:PORT in {text!r}")
    slash = rest.find("/")
    port_text, request_path = (rest[1:], "") if slash < 0 else (rest[1:slash], rest[slash:])
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise normalize.ShapeError(path, f"expected a port 1-65535 in {text!r}")
    if protocol == "Tcp":
        if request_path:
            raise normalize.ShapeError(path, f"a tcp:// target has no path: {text!r}")
        return ProbeTarget(address=host, port=int(port_text), protocol=protocol)
    return ProbeTarget(address=host, port=int(port_text), protocol=protocol, path=request_path or "/")


# ---------------------------------------------------------------------------------------------
# Reading: a folder of raw dumps


@record
class _Evidence:
    """Normalised pieces on their way to a Case."""

    label: str
    service: Any = None
    nodes: list[Any] = field(default_factory=list)
    slices: list[tuple[Mapping[str, Any], str]] = field(default_factory=list)  # (raw slice, where)
    lbs: list[Any] = field(default_factory=list)
    pips: list[Any] = field(default_factory=list)
    nics: list[Any] = field(default_factory=list)
    azure: Mapping[str, Mapping[str, AzureHealth]] | None = None
    azure_notes: tuple[str, ...] = ()
    network_notes: tuple[str, ...] = ()
    source: str | None = None
    events_note: str | None = None
    observed_at: str | None = None
    ownership: normalize.Ownership | None = None
    path: tuple | None = None  # NSGs, VNets, subnets, PLSs, when already read (a folder: notes name the files)

    def case(
        self,
        raw: RawDocuments,
        scope: Scope,
        recorded: tuple[ProbeResult, ...],
        subscription: str | None,
        resource_group: str | None,
        label_of: Mapping[int, str] | None = None,
    ) -> Case:
        from akslbctl.analysis.match import node_resource_group
        from akslbctl.collect import case_from_raw

        service = self.service
        endpoints = []
        kept = []
        for doc, where in self.slices:
            if not _slice_of(doc, service.namespace, service.name):
                continue
            kept.append(doc)
            with _shape_errors(label_of.get(id(doc), self.label) if label_of else self.label):
                endpoints.extend(normalize.endpoints(doc, where))
        raw = RawDocuments(
            service=raw.service,
            nodes=raw.nodes,
            endpoint_slices=tuple(kept),
            endpoints_read=raw.endpoints_read,
            load_balancers=raw.load_balancers,
            public_ips=raw.public_ips,
            network_interfaces=raw.network_interfaces,
            version=raw.version,
            security_groups=raw.security_groups,
            virtual_networks=raw.virtual_networks,
            subnets=raw.subnets,
            private_link_services=raw.private_link_services,
            events=raw.events,
            instance_views=raw.instance_views,
            pods=raw.pods,
            network_policies=raw.network_policies,
            workload_notes=raw.workload_notes,
        )
        # The scope: flags, else what the case says, else the Nodes' providerIDs, else the LBs' ids.
        sub_from_nodes, rg_from_nodes = node_resource_group(self.nodes)
        lb = self.lbs[0] if self.lbs else None
        subscription = scope.subscription or subscription or sub_from_nodes or (lb.subscription if lb else None) or None
        resource_group = (
            scope.resource_group or resource_group or rg_from_nodes or (lb.resource_group if lb else None) or None
        )
        return case_from_raw(
            raw,
            subscription=subscription,
            resource_group=resource_group,
            service=service,
            nodes=tuple(self.nodes),
            endpoints=tuple(endpoints),
            load_balancers=tuple(self.lbs),
            public_ips=tuple(self.pips),
            network_interfaces=tuple(self.nics),
            recorded=recorded,
            network_notes=self.network_notes,
            recorded_azure=self.azure,
            recorded_source=self.source,
            recorded_notes=self.azure_notes,
            events_note=self.events_note,
            observed_at=self.observed_at,
            ownership=self.ownership,
            path=self.path,
        )


def _ownership(service) -> normalize.Ownership:
    from akslbctl.collect import ownership_of

    return ownership_of([service])


_lenient = normalize.lenient


def read_folder(path: str, scope: Scope | None = None, *, label: str | None = None) -> Case:
    """A Case from raw ``kubectl get … -o json`` / ``az … -o json`` outputs, one per file.

    Kubernetes ``List`` objects (``kubectl get``), typed lists (``NodeList``), single objects, az arrays,
    ARM ``{"value": [...]}`` pages, and both ARM shapes (REST nested ``properties``, az flattened) are
    all accepted. Recorded probe results are read from ``probes.json`` when there is one; otherwise the
    case has none (verdicts ``unknown``/``not-probed``).
    """
    scope = scope or Scope()
    label = label or path
    try:
        entries = sorted(
            (e for e in os.scandir(path) if e.name.lower().endswith(".json") and e.is_file()), key=lambda e: e.name
        )
    except OSError as exc:
        raise CaseFileError(f"{label}: cannot list the folder: {exc.strerror or exc}") from None
    if not entries:
        raise CaseFileError(
            f"{label}: no .json files in the folder",
            hint="save the kubectl/az outputs there with -o json (see docs/case-files.md)",
        )
    found = _Found()
    for entry in entries:
        file_label = os.path.join(label, entry.name)
        role = _ROLES.get(entry.name[: -len(".json")].lower())
        doc = parse_json(read_bytes(entry.path, file_label), file_label)
        found.add(doc, role, file_label)
    return found.case(label, scope)


@record
class _Found:
    """Documents sorted by kind, each with the file and path that name it in errors."""

    services: list[tuple[Mapping[str, Any], str, str]] = field(default_factory=list)  # (doc, file, path)
    nodes: list[tuple[Mapping[str, Any], str, str]] = field(default_factory=list)
    slices: list[tuple[Mapping[str, Any], str, str]] = field(default_factory=list)
    slices_read: bool = False  # a file of EndpointSlices was there (an empty list is none; no file: unknown)
    lbs: list[tuple[Mapping[str, Any], str, str]] = field(default_factory=list)
    pips: list[tuple[Mapping[str, Any], str, str]] = field(default_factory=list)
    nics: list[tuple[Mapping[str, Any], str, str]] = field(default_factory=list)
    nsgs: list[tuple[Mapping[str, Any], str, str]] = field(default_factory=list)
    subnets: list[tuple[Mapping[str, Any], str, str]] = field(default_factory=list)
    vnets: list[tuple[Mapping[str, Any], str, str]] = field(default_factory=list)
    links: list[tuple[Mapping[str, Any], str, str]] = field(default_factory=list)
    version: Mapping[str, Any] | None = None
    probes: list[tuple[Any, str]] = field(default_factory=list)  # (probes list, file)
    events: list[tuple[Mapping[str, Any], str, str]] | None = None  # None: no events file
    pods: list[tuple[Mapping[str, Any], str, str]] | None = None  # None: no pods.json (not read)
    policies: list[tuple[Mapping[str, Any], str, str]] | None = None

    def add(self, doc: Any, role: str | None, file: str) -> None:
        if role == "Version" or (isinstance(doc, dict) and ("serverVersion" in doc or "gitVersion" in doc)):
            with _shape_errors(file):
                self.version = _version_doc(doc, "$")
            return
        if role == "Probes":
            self.probes.append((doc, file))
            return
        if isinstance(doc, dict) and doc.get("kind") == KIND and doc.get("apiVersion") == API_VERSION:
            raise CaseFileError(f"{file}: is a case file, not a raw dump", hint=f"pass it on its own: -f {file}")
        if role in ("Pod", "NetworkPolicy"):
            # kubectl get pods / networkpolicies (and ciliumnetworkpolicies) -o json: issue 12.
            bucket = self.pods if role == "Pod" else self.policies
            if bucket is None:
                bucket = []
                setattr(self, "pods" if role == "Pod" else "policies", bucket)
            allowed = ("Pod",) if role == "Pod" else ("NetworkPolicy", "CiliumNetworkPolicy")
            for item, path, list_kind in _items(doc, file):
                kind = _kind_of(item, list_kind, role)
                if kind not in allowed:
                    raise CaseFileError(f"{file}: {path}.kind: expected {' or '.join(allowed)}, got {_shown(kind)}")
                bucket.append((item, file, path))
            return
        if role == "EndpointSlice":
            self.slices_read = True
        for item, path, list_kind in _items(doc, file):
            kind = _kind_of(item, list_kind, role)
            bucket = {
                "Service": self.services,
                "Node": self.nodes,
                "EndpointSlice": self.slices,
                "LoadBalancer": self.lbs,
                "PublicIPAddress": self.pips,
                "NetworkInterface": self.nics,
                "NetworkSecurityGroup": self.nsgs,
                "Subnet": self.subnets,
                "VirtualNetwork": self.vnets,
                "PrivateLinkService": self.links,
                "Event": self._events_bucket() if kind == "Event" else None,
            }.get(kind or "")
            if bucket is not None and (role is None or kind == role):
                bucket.append((item, file, path))
                continue
            if kind == "Endpoints":
                raise CaseFileError(
                    f"{file}: {path}.kind: Endpoints, not EndpointSlice",
                    hint="save EndpointSlices: kubectl get endpointslices -n NAMESPACE "
                    "-l kubernetes.io/service-name=NAME -o json > endpointslices.json",
                )
            if role is not None:
                raise CaseFileError(f"{file}: {path}.kind: expected {role}, got {_shown(kind)}")
            # Anything else in a file of another name (events.json, …) is not ours to read.

    def _events_bucket(self) -> list[tuple[Mapping[str, Any], str, str]]:
        if self.events is None:
            self.events = []
        return self.events

    def case(self, label: str, scope: Scope) -> Case:
        chosen, service = self._service(label, scope)
        doc, file, path = chosen
        for kind, docs in (("Node", self.nodes), ("LoadBalancer", self.lbs)):
            if not docs:
                raise CaseFileError(f"{label}: no {kind} in the dumps", hint=f"add the output of: {_HOW_TO_SAVE[kind]}")
        evidence = _Evidence(label=label, service=service)
        own = evidence.ownership = _ownership(service)
        groups: list[Any] = []
        subnets: list[Any] = []
        vnets: list[Any] = []
        links: list[Any] = []
        for docs, fn, into, extra in (
            (self.nodes, normalize.node, evidence.nodes, {}),
            (self.lbs, normalize.load_balancer, evidence.lbs, {"ownership": own}),
            (self.pips, normalize.public_ip, evidence.pips, {}),
            (self.nics, normalize.network_interface, evidence.nics, {}),
            (self.nsgs, normalize.security_group, groups, {}),
            (self.subnets, normalize.subnet, subnets, {}),
            (self.vnets, normalize.virtual_network, vnets, {}),
            (self.links, normalize.private_link_service, links, {}),
        ):
            for d, f, p in docs:
                with _shape_errors(f):  # an error, or a note, names its file
                    got = _lenient(fn, d, p, own, f"{os.path.basename(f)}: ", **extra)
                if got is not None:
                    into.append(got)
        evidence.slices = [(d, p) for d, _, p in self.slices]
        evidence.path = (tuple(groups), tuple(vnets), tuple(subnets), tuple(links))
        recorded: list[ProbeResult] = []
        for value, f in self.probes:
            with _shape_errors(f):
                recorded.extend(recorded_probes(value, "$"))
        raw = RawDocuments(
            service=doc,
            nodes=tuple(d for d, _, _ in self.nodes),
            endpoint_slices=tuple(d for d, _, _ in self.slices),
            endpoints_read=self.slices_read or bool(self.slices),
            load_balancers=tuple(d for d, _, _ in self.lbs),
            public_ips=tuple(d for d, _, _ in self.pips),
            network_interfaces=tuple(d for d, _, _ in self.nics),
            version=self.version,
            security_groups=tuple(d for d, _, _ in self.nsgs),
            virtual_networks=tuple(d for d, _, _ in self.vnets),
            subnets=tuple(d for d, _, _ in self.subnets),
            private_link_services=tuple(d for d, _, _ in self.links),
            events=None if self.events is None else tuple(d for d, _, _ in self.events if _about(d, service)),
            pods=None if self.pods is None else tuple(d for d, _, _ in self.pods),
            network_policies=None if self.policies is None else tuple(d for d, _, _ in self.policies),
        )
        label_of = {id(d): f for d, f, _ in self.slices}
        return evidence.case(raw, scope, tuple(recorded), None, None, label_of)

    def _service(self, label: str, scope: Scope):
        if not self.services:
            hint = f"add the output of: {_HOW_TO_SAVE['Service']}"
            raise CaseFileError(f"{label}: no Service in the dumps", hint=hint)
        normalised = []
        for d, f, p in self.services:
            with _shape_errors(f):
                normalised.append(((d, f, p), normalize.service(d, p)))
        candidates = normalised
        if scope.name:
            candidates = [
                c
                for c in normalised
                if c[1].name == scope.name and (scope.namespace is None or c[1].namespace == scope.namespace)
            ]
            if not candidates:
                found = ", ".join(sorted(s.ref for _, s in normalised))
                wanted = f"{scope.namespace}/{scope.name}" if scope.namespace else scope.name
                raise CaseFileError(f"{label}: no Service {wanted} in the dumps (found: {found})")
        elif scope.namespace:
            candidates = [c for c in normalised if c[1].namespace == scope.namespace]
        if len(candidates) > 1:
            balanced = [c for c in candidates if c[1].type == "LoadBalancer"]
            if len(balanced) == 1 and not scope.name:
                candidates = balanced
        if len(candidates) != 1:
            names = ", ".join(sorted(s.ref for _, s in candidates or normalised))
            raise CaseFileError(
                f"{label}: the dumps hold {len(candidates) or 'no matching'} Services ({names})",
                hint="name the one to explain: svc/NAME [-n NAMESPACE]",
            )
        (chosen, service) = candidates[0]
        _check_service(service, scope, chosen[1], named=False)
        return chosen, service


def _items(doc: Any, file: str):
    """(item, path, list kind) for each object of a raw dump: List, typed list, az array, ARM page, object."""
    if isinstance(doc, list):
        return [(item, f"[{i}]", None) for i, item in enumerate(doc)]
    if not isinstance(doc, dict):
        raise CaseFileError(f"{file}: expected a JSON object or list, got {_a(doc)}")
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
        items = doc.get("items")
        if items is None:
            return []
        if not isinstance(items, list):
            raise CaseFileError(f"{file}: items: expected a list, got {_a(items)}")
        return [(item, f"items[{i}]", kind) for i, item in enumerate(items)]
    if "value" in doc and "id" not in doc and isinstance(doc.get("value"), list):
        return [(item, f"value[{i}]", None) for i, item in enumerate(doc["value"])]
    return [(doc, "$", None)]


def _kind_of(item: Any, list_kind: str | None, role: str | None) -> str | None:
    if not isinstance(item, dict):
        return None
    arm_type = item.get("type")
    rid = item.get("id")
    if isinstance(arm_type, str) and "/" in arm_type and isinstance(rid, str) and rid.startswith("/"):
        return _ARM_KINDS.get(arm_type.lower(), arm_type)
    kind = item.get("kind")
    if isinstance(kind, str) and kind and "metadata" in item:
        return kind
    if list_kind and list_kind != "List":
        return list_kind[: -len("List")]
    return role


def _about(event: Mapping[str, Any], service) -> bool:
    """An event of ``kubectl get events`` about this Service (involvedObject, or regarding in events.k8s.io)."""
    return normalize.event_about(event, service.namespace, service.name)


def _slice_of(doc: Mapping[str, Any], namespace: str, name: str) -> bool:
    """Does this EndpointSlice belong to the Service? (A dump may hold the slices of a whole namespace;
    a slice without the service-name label — a hand-trimmed dump — is kept.)"""
    return normalize.slice_of(doc, namespace, name, require_label=False)


# ---------------------------------------------------------------------------------------------
# Shared checks and helpers


def _check_service(service, scope: Scope, label: str, *, named: bool = True) -> None:
    from akslbctl.collect import check_manageable

    if named and scope.name and service.name != scope.name:
        raise CaseFileError(
            f"{label} holds Service {service.ref}, not {scope.name}",
            hint="omit the Service name, or pass the case of that Service",
        )
    if named and scope.namespace and service.namespace != scope.namespace:
        raise CaseFileError(
            f"{label} holds Service {service.ref}, not one in namespace {scope.namespace}",
            hint="omit -n, or pass the case of that Service",
        )
    try:
        check_manageable(service)
    except UsageError as exc:
        raise CaseFileError(f"{label}: {exc.message}") from None


def _obj_field(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key)
    if value is None:
        raise normalize.ShapeError(key, "is missing")
    return normalize._obj(value, key, optional=False)


def _obj_items(doc: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    return [normalize._obj(v, f"{key}[{i}]", optional=False) for i, v in enumerate(normalize._list(doc.get(key), key))]


def _version_doc(value: Any, path: str) -> Mapping[str, Any] | None:
    """The ``/version`` document, from itself, from ``kubectl version -o json`` or a bare gitVersion."""
    if value is None:
        return None
    if isinstance(value, str):
        return {"gitVersion": value}
    value = normalize._obj(value, path, optional=False)
    if "serverVersion" in value:
        return _version_doc(value.get("serverVersion"), f"{path}.serverVersion")
    normalize._str(value.get("gitVersion"), f"{path}.gitVersion")
    return value


class _shape_errors:
    """Turn a ShapeError into a CaseFileError that names the file and the field."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is not None and isinstance(exc, normalize.ShapeError):
            raise CaseFileError(f"{self.label}: {exc.path}: {exc.message}") from None
        return False


def read_bytes(path: str, label: str, *, limit: int | None = None) -> bytes:
    """The whole file, refusing what is not a regular file or is absurdly large."""
    limit = MAX_FILE_BYTES if limit is None else limit
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise CaseFileError(f"{label}: not a regular file")
        if st.st_size > limit:
            raise CaseFileError(f"{label}: {_size(st.st_size)} is too large (the limit is {_size(limit)})")
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        raise CaseFileError(f"{label}: no such file or folder") from None
    except IsADirectoryError:
        raise CaseFileError(f"{label}: is a folder") from None
    except OSError as exc:
        raise CaseFileError(f"{label}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise CaseFileError(f"{label}: more than {_size(limit)}: too large")
    return data


def parse_json(data: bytes, label: str) -> Any:
    """JSON from bytes as kubectl and az write them (UTF-8, or UTF-16 from Windows PowerShell's ``>``)."""
    if not data.strip():
        raise CaseFileError(f"{label}: the file is empty", hint="save the command's output with -o json")
    try:
        utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
        text = data.decode("utf-16") if utf16 else data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaseFileError(
            f"{label}: not JSON text (invalid UTF-8 at byte {exc.start})",
            hint="send the file as kubectl/az wrote it, uncompressed",
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # Python's decoder says "Unterminated string" only when the input ends inside a string.
        truncated = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        message = exc.msg[0].lower() + exc.msg[1:].removesuffix(" at")
        raise CaseFileError(
            f"{label}: not valid JSON at line {exc.lineno} column {exc.colno}: {message}"
            + (" (the file ends early: truncated?)" if truncated else ""),
            hint="akslbctl reads the output of -o json",
        ) from None
    except RecursionError:
        raise CaseFileError(f"{label}: not valid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise CaseFileError(f"{label}: not valid JSON: {exc}") from None


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def _a(value: Any) -> str:
    if value is None:
        return "null"
    return normalize._type_name(value)


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return repr(value[:60])
    return _a(value)
