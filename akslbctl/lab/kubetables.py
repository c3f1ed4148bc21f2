"""Server-side printing for the lab's Kubernetes API: ``meta.k8s.io/v1`` Table documents.

``kubectl get`` asks for ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the
columns the API server chose. The lab answers with the columns a real API server gives for the kinds
it serves (Services, Nodes, EndpointSlices, Events, Pods, Namespaces, NetworkPolicies), the cells
formatted the same way (``80:30396/TCP``, ``<pending>``, ``Ready,SchedulingDisabled``, ages such as
``5d``), so ``kubectl get svc,nodes,endpointslices`` against a lab looks as it does against AKS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

Doc = dict[str, Any]
Column = tuple[str, str, int, str]  # name, type, priority (1: -o wide only), description


def wants_table(accept: str) -> bool:
    """Does an Accept header ask for a Table first (kubectl get) rather than the objects?"""
    first = accept.split(",")[0].replace(" ", "")
    return "as=Table" in first and "g=meta.k8s.io" in first


def table(
    plural: str, items: list[Doc], metadata: Doc, *, include_object: str = "Metadata", now: dt.datetime | None = None
) -> Doc:
    """A Table of ``items`` (whole objects, with or without kind) for resource ``plural``."""
    columns, row = PRINTERS.get(plural, (_DEFAULT_COLUMNS, _default_row))
    now = now or dt.datetime.now(dt.timezone.utc)
    rows = []
    for item in items:
        entry: Doc = {"cells": row(item, now)}
        if include_object == "Object":
            entry["object"] = item
        elif include_object != "None":
            entry["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": item.get("metadata", {}),
            }
        rows.append(entry)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": [
            {
                "name": name,
                "type": kind,
                "format": "name" if name == "Name" else "",
                "description": text,
                "priority": priority,
            }
            for name, kind, priority, text in columns
        ],
        "rows": rows,
    }


# -- cells ------------------------------------------------------------------------------------------


def age(timestamp: str | None, now: dt.datetime) -> str:
    """kubectl's short human duration: ``42s``, ``5m``, ``3h``, ``5d``, ``2y``; ``<unknown>`` without one."""
    if not timestamp:
        return "<unknown>"
    try:
        then = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    seconds = int((now - then).total_seconds())
    if seconds < 0:
        return "<invalid>"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


def _meta(doc: Doc) -> Doc:
    return doc.get("metadata") or {}


def _name(doc: Doc) -> str:
    return str(_meta(doc).get("name", ""))


def _created(doc: Doc, now: dt.datetime) -> str:
    return age(_meta(doc).get("creationTimestamp"), now)


def _selector(labels: Doc | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or "<none>"


# Services: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE [SELECTOR]


def _service_row(svc: Doc, now: dt.datetime) -> list[Any]:
    spec = svc.get("spec") or {}
    kind = spec.get("type") or "ClusterIP"
    cluster_ip = ",".join(spec.get("clusterIPs") or [spec.get("clusterIP") or "<none>"])
    external = [
        i.get("ip") or i.get("hostname") for i in (svc.get("status") or {}).get("loadBalancer", {}).get("ingress") or []
    ]
    external = [e for e in external if e] + list(spec.get("externalIPs") or [])
    if external:
        external_ip = ",".join(external)
    elif kind == "LoadBalancer":
        external_ip = "<pending>"
    elif kind == "ExternalName":
        external_ip = spec.get("externalName") or "<none>"
    else:
        external_ip = "<none>"
    ports = []
    for p in spec.get("ports") or []:
        text = str(p.get("port"))
        if p.get("nodePort"):
            text += f":{p['nodePort']}"
        ports.append(f"{text}/{p.get('protocol') or 'TCP'}")
    return [
        _name(svc),
        kind,
        cluster_ip,
        external_ip,
        ",".join(ports) or "<none>",
        _created(svc, now),
        _selector(spec.get("selector")),
    ]


_SERVICE_COLUMNS: list[Column] = [
    ("Name", "string", 0, "Name must be unique within a namespace."),
    ("Type", "string", 0, "type determines how the Service is exposed."),
    ("Cluster-IP", "string", 0, "clusterIP is the IP address of the service."),
    ("External-IP", "string", 0, "The addresses the Service is reachable on from outside the cluster."),
    ("Port(s)", "string", 0, "The list of ports that are exposed by this service."),
    ("Age", "string", 0, "CreationTimestamp of the object."),
    ("Selector", "string", 1, "Route service traffic to pods with label keys and values matching this selector."),
]


# Nodes: NAME STATUS ROLES AGE VERSION [INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME]


def _node_row(node: Doc, now: dt.datetime) -> list[Any]:
    status = node.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    state = "Unknown" if ready is None else "Ready" if ready.get("status") == "True" else "NotReady"
    if (node.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    prefix = "node-role.kubernetes.io/"
    labels = _meta(node).get("labels") or {}
    roles = sorted(k[len(prefix) :] for k in labels if k.startswith(prefix) and k[len(prefix) :])
    if "kubernetes.io/role" in labels:
        roles.append(str(labels["kubernetes.io/role"]))
    addresses = status.get("addresses") or []

    def address(kind: str) -> str:
        return next((a.get("address", "") for a in addresses if a.get("type") == kind), "") or "<none>"

    info = status.get("nodeInfo") or {}
    return [
        _name(node),
        state,
        ",".join(sorted(set(roles))) or "<none>",
        _created(node, now),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


_NODE_COLUMNS: list[Column] = [
    ("Name", "string", 0, "Name must be unique within a namespace."),
    ("Status", "string", 0, "The status of the node"),
    ("Roles", "string", 0, "The roles of the node"),
    ("Age", "string", 0, "CreationTimestamp of the object."),
    ("Version", "string", 0, "Kubelet Version reported by the node."),
    ("Internal-IP", "string", 1, "List of addresses reachable to the node. Queried from cloud provider, if available."),
    ("External-IP", "string", 1, "List of addresses reachable to the node. Queried from cloud provider, if available."),
    ("OS-Image", "string", 1, "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
    ("Kernel-Version", "string", 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
    ("Container-Runtime", "string", 1, "ContainerRuntime Version reported by the node through runtime remote API."),
]


# EndpointSlices: NAME ADDRESSTYPE PORTS ENDPOINTS AGE


def _endpointslice_row(slice_: Doc, now: dt.datetime) -> list[Any]:
    ports = [str(p.get("port")) for p in slice_.get("ports") or [] if p.get("port") is not None]
    addresses = [a for e in slice_.get("endpoints") or [] for a in e.get("addresses") or []]
    shown = ",".join(addresses[:3]) or "<unset>"
    if len(addresses) > 3:
        shown += f" + {len(addresses) - 3} more..."
    return [_name(slice_), slice_.get("addressType", ""), ",".join(ports) or "<unset>", shown, _created(slice_, now)]


_ENDPOINTSLICE_COLUMNS: list[Column] = [
    ("Name", "string", 0, "Name must be unique within a namespace."),
    ("AddressType", "string", 0, "addressType specifies the type of address carried by this EndpointSlice."),
    ("Ports", "string", 0, "ports specifies the list of network ports exposed by each endpoint in this slice."),
    ("Endpoints", "string", 0, "endpoints is a list of unique endpoints in this slice."),
    ("Age", "string", 0, "CreationTimestamp of the object."),
]


def _endpoints_row(ep: Doc, now: dt.datetime) -> list[Any]:
    shown = [
        f"{a.get('ip')}:{p.get('port')}" if p else str(a.get("ip"))
        for subset in ep.get("subsets") or []
        for a in subset.get("addresses") or []
        for p in (subset.get("ports") or [None])
    ]
    text = ",".join(shown[:3]) or "<none>"
    if len(shown) > 3:
        text += f" + {len(shown) - 3} more..."
    return [_name(ep), text, _created(ep, now)]


_ENDPOINTS_COLUMNS: list[Column] = [
    ("Name", "string", 0, "Name must be unique within a namespace."),
    ("Endpoints", "string", 0, "Endpoints of the service."),
    ("Age", "string", 0, "CreationTimestamp of the object."),
]


# Events: LAST SEEN TYPE REASON OBJECT MESSAGE (wide: SUBOBJECT SOURCE FIRST SEEN COUNT NAME)


def _event_row(event: Doc, now: dt.datetime) -> list[Any]:
    obj = event.get("involvedObject") or {}
    last = event.get("lastTimestamp") or event.get("eventTime") or _meta(event).get("creationTimestamp")
    first = event.get("firstTimestamp") or event.get("eventTime")
    source = event.get("source") or {}
    return [
        age(last, now),
        event.get("type", ""),
        event.get("reason", ""),
        f"{str(obj.get('kind', '')).lower()}/{obj.get('name', '')}",
        obj.get("fieldPath", ""),
        ", ".join(x for x in (source.get("component"), source.get("host")) if x) or event.get("reportingComponent", ""),
        (event.get("message") or "").strip(),
        age(first, now),
        event.get("count") or 1,
        _name(event),
    ]


_EVENT_COLUMNS: list[Column] = [
    ("Last Seen", "string", 0, "The time the last occurrence of this event was recorded."),
    ("Type", "string", 0, "Type of this event (Normal, Warning)."),
    ("Reason", "string", 0, "This should be a short, machine understandable string that gives the reason."),
    ("Object", "string", 0, "The object that this event is about."),
    ("Subobject", "string", 1, "The subobject (fieldPath) of the object that this event is about."),
    ("Source", "string", 1, "The component reporting this event."),
    ("Message", "string", 0, "A human-readable description of the status of this operation."),
    ("First Seen", "string", 1, "The time at which the event was first recorded."),
    ("Count", "integer", 1, "The number of times this event has occurred."),
    ("Name", "string", 1, "Name must be unique within a namespace."),
]


# Pods: NAME READY STATUS RESTARTS AGE [IP NODE]


def _pod_row(pod: Doc, now: dt.datetime) -> list[Any]:
    status = pod.get("status") or {}
    containers = status.get("containerStatuses") or []
    total = len(containers) or len((pod.get("spec") or {}).get("containers") or []) or 1
    if containers:
        ready = sum(1 for c in containers if c.get("ready"))
    else:  # no per-container status recorded: the pod's Ready condition speaks for all of them
        condition = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
        ready = total if condition.get("status") == "True" else 0
    restarts = sum(int(c.get("restartCount") or 0) for c in containers)
    phase = status.get("phase") or "Unknown"
    if _meta(pod).get("deletionTimestamp"):
        phase = "Terminating"
    return [
        _name(pod),
        f"{ready}/{total}",
        phase,
        restarts,
        _created(pod, now),
        status.get("podIP") or "<none>",
        (pod.get("spec") or {}).get("nodeName") or "<none>",
    ]


_POD_COLUMNS: list[Column] = [
    ("Name", "string", 0, "Name must be unique within a namespace."),
    ("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
    ("Status", "string", 0, "The aggregate status of the containers in this pod."),
    ("Restarts", "string", 0, "The number of times the containers in this pod have been restarted."),
    ("Age", "string", 0, "CreationTimestamp of the object."),
    ("IP", "string", 1, "IP address allocated to the pod."),
    ("Node", "string", 1, "Name of the node the pod is assigned to."),
]


def _namespace_row(ns: Doc, now: dt.datetime) -> list[Any]:
    return [_name(ns), (ns.get("status") or {}).get("phase", "Active"), _created(ns, now)]


_NAMESPACE_COLUMNS: list[Column] = [
    ("Name", "string", 0, "Name must be unique within a namespace."),
    ("Status", "string", 0, "The status of the namespace"),
    ("Age", "string", 0, "CreationTimestamp of the object."),
]


def _networkpolicy_row(policy: Doc, now: dt.datetime) -> list[Any]:
    selector = ((policy.get("spec") or {}).get("podSelector") or {}).get("matchLabels")
    return [_name(policy), _selector(selector), _created(policy, now)]


_NETWORKPOLICY_COLUMNS: list[Column] = [
    ("Name", "string", 0, "Name must be unique within a namespace."),
    ("Pod-Selector", "string", 0, "Selects the pods to which this NetworkPolicy object applies."),
    ("Age", "string", 0, "CreationTimestamp of the object."),
]


def _default_row(doc: Doc, now: dt.datetime) -> list[Any]:
    return [_name(doc), _created(doc, now)]


_DEFAULT_COLUMNS: list[Column] = [
    ("Name", "string", 0, "Name must be unique within a namespace."),
    ("Age", "string", 0, "CreationTimestamp of the object."),
]

PRINTERS: dict[str, tuple[list[Column], Callable[[Doc, dt.datetime], list[Any]]]] = {
    "services": (_SERVICE_COLUMNS, _service_row),
    "nodes": (_NODE_COLUMNS, _node_row),
    "endpointslices": (_ENDPOINTSLICE_COLUMNS, _endpointslice_row),
    "endpoints": (_ENDPOINTS_COLUMNS, _endpoints_row),
    "events": (_EVENT_COLUMNS, _event_row),
    "pods": (_POD_COLUMNS, _pod_row),
    "namespaces": (_NAMESPACE_COLUMNS, _namespace_row),
    "networkpolicies": (_NETWORKPOLICY_COLUMNS, _networkpolicy_row),
}
