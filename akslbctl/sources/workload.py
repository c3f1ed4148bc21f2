"""Raw Pod / NetworkPolicy / CiliumNetworkPolicy JSON → the typed model (model/workload.py).

Lenient where Kubernetes is (absent lists, absent selectors) and strict where a wrong type would make
the evaluation lie: a ShapeError names the path, as normalize.py does.
"""

from __future__ import annotations

from typing import Any

from akslbctl.model.workload import (
    Container,
    ContainerPort,
    HttpCheck,
    IngressRule,
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    Peer,
    Pod,
    PolicyPort,
    Requirement,
)
from akslbctl.sources.normalize import (
    _BOOL_OR_NONE,
    _LIST_OR_NONE,
    _STR_OR_NONE,
    ShapeError,
    _bool,
    _int,
    _list,
    _obj,
    _str,
    _str_map,
)


def _port_value(value: Any, path: str) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ShapeError(path, "expected a port number or name, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value) if value.isdigit() else value
    raise ShapeError(path, "expected a port number or name")


def pod(doc: Any, path: str = "Pod") -> Pod:
    plain = _plain_pod(doc, path)
    if plain is not None:
        return plain
    doc = _obj(doc, path, optional=False)
    meta = _obj(doc.get("metadata"), f"{path}.metadata")
    spec = _obj(doc.get("spec"), f"{path}.spec")
    status = _obj(doc.get("status"), f"{path}.status")
    containers = []
    for i, c in enumerate(_list(spec.get("containers"), f"{path}.spec.containers")):
        cp = f"{path}.spec.containers[{i}]"
        c = _obj(c, cp, optional=False)
        ports = []
        for j, p in enumerate(_list(c.get("ports"), f"{cp}.ports")):
            pp = f"{cp}.ports[{j}]"
            p = _obj(p, pp, optional=False)
            number = _int(p.get("containerPort"), f"{pp}.containerPort")
            if number is None:
                continue
            ports.append(
                ContainerPort(number, _str(p.get("name"), f"{pp}.name") or "", _str(p.get("protocol"), pp) or "TCP")
            )
        containers.append(
            Container(
                name=_str(c.get("name"), f"{cp}.name") or "",
                image=_str(c.get("image"), f"{cp}.image") or "",
                ports=tuple(ports),
                readiness=_check(c.get("readinessProbe"), f"{cp}.readinessProbe"),
            )
        )
    ips = [
        _str(_obj(x, f"{path}.status.podIPs").get("ip"), f"{path}.status.podIPs.ip")
        for x in _list(status.get("podIPs"), f"{path}.status.podIPs")
    ]
    ips = [ip for ip in ips if ip] or [ip for ip in (_str(status.get("podIP"), f"{path}.status.podIP"),) if ip]
    return Pod(
        namespace=_str(meta.get("namespace"), f"{path}.metadata.namespace") or "default",
        name=_str(meta.get("name"), f"{path}.metadata.name", optional=False) or "",
        node_name=_str(spec.get("nodeName"), f"{path}.spec.nodeName"),
        labels=_str_map(meta.get("labels"), f"{path}.metadata.labels"),
        ips=tuple(ips),
        containers=tuple(containers),
        host_network=bool(_bool(spec.get("hostNetwork"), f"{path}.spec.hostNetwork")),
    )


def _check(value: Any, path: str) -> HttpCheck | None:
    if value is None:
        return None
    probe = _obj(value, path)
    if "httpGet" in probe:
        h = _obj(probe.get("httpGet"), f"{path}.httpGet")
        headers = []
        for i, hd in enumerate(_list(h.get("httpHeaders"), f"{path}.httpGet.httpHeaders")):
            hd = _obj(hd, f"{path}.httpGet.httpHeaders[{i}]")
            headers.append((str(hd.get("name") or ""), str(hd.get("value") or "")))
        return HttpCheck(
            "httpGet",
            _port_value(h.get("port"), f"{path}.httpGet.port"),
            _str(h.get("path"), f"{path}.httpGet.path") or "/",
            (_str(h.get("scheme"), f"{path}.httpGet.scheme") or "HTTP").upper(),
            tuple(headers),
        )
    if "tcpSocket" in probe:
        t = _obj(probe.get("tcpSocket"), f"{path}.tcpSocket")
        return HttpCheck("tcpSocket", _port_value(t.get("port"), f"{path}.tcpSocket.port"))
    if "grpc" in probe:
        g = _obj(probe.get("grpc"), f"{path}.grpc")
        return HttpCheck("grpc", _int(g.get("port"), f"{path}.grpc.port"))
    return HttpCheck("exec")


def _plain_pod(doc: Any, path: str) -> Pod | None:
    """:func:`pod` of a Pod as the API writes it, without the path of every field worked out ahead for
    an error that does not come; None for anything else, which :func:`pod` reads field by field."""
    if type(doc) is not dict:
        return None
    meta, spec, status = doc.get("metadata"), doc.get("spec"), doc.get("status")
    if type(meta) is not dict or type(spec) is not dict or type(status) is not dict:
        return None
    name, namespace, labels = meta.get("name"), meta.get("namespace"), meta.get("labels")
    node_name, host_network, containers = spec.get("nodeName"), spec.get("hostNetwork"), spec.get("containers")
    if type(name) is not str or type(namespace) not in _STR_OR_NONE or type(node_name) not in _STR_OR_NONE:
        return None
    if type(host_network) not in _BOOL_OR_NONE or type(containers) not in _LIST_OR_NONE:
        return None
    if labels is None:
        labels = {}
    elif type(labels) is not dict or not all(type(k) is str and type(v) is str for k, v in labels.items()):
        return None
    out = []
    for i, c in enumerate(containers or ()):
        if type(c) is not dict:
            return None
        cname, image, ports, probe = c.get("name"), c.get("image"), c.get("ports"), c.get("readinessProbe")
        if type(cname) not in _STR_OR_NONE or type(image) not in _STR_OR_NONE or type(ports) not in _LIST_OR_NONE:
            return None
        cports = []
        for p in ports or ():
            if type(p) is not dict:
                return None
            number, pname, protocol = p.get("containerPort"), p.get("name"), p.get("protocol")
            if number is None:
                continue
            if type(number) is not int or type(pname) not in _STR_OR_NONE or type(protocol) not in _STR_OR_NONE:
                return None
            cports.append(ContainerPort(number, pname or "", protocol or "TCP"))
        try:
            readiness = None if probe is None else _check(probe, f"{path}.spec.containers[{i}].readinessProbe")
        except ShapeError:
            return None  # the field-by-field reading says so, in its order
        out.append(Container(name=cname or "", image=image or "", ports=tuple(cports), readiness=readiness))
    listed = status.get("podIPs")
    if type(listed) not in _LIST_OR_NONE:
        return None
    ips = []
    for x in listed or ():
        if x is None:
            continue
        if type(x) is not dict or type(x.get("ip")) not in _STR_OR_NONE:
            return None
        if x.get("ip"):
            ips.append(x["ip"])
    if not ips:
        single = status.get("podIP")
        if type(single) not in _STR_OR_NONE:
            return None
        ips = [single] if single else []
    return Pod(
        namespace=namespace or "default",
        name=name,
        node_name=node_name,
        labels=dict(labels),
        ips=tuple(ips),
        containers=tuple(out),
        host_network=bool(host_network),
    )


def selector(value: Any, path: str) -> LabelSelector:
    sel = _obj(value, path)
    exprs = []
    for i, e in enumerate(_list(sel.get("matchExpressions"), f"{path}.matchExpressions")):
        ep = f"{path}.matchExpressions[{i}]"
        e = _obj(e, ep, optional=False)
        values = tuple(str(v) for v in _list(e.get("values"), f"{ep}.values"))
        exprs.append(
            Requirement(
                _str(e.get("key"), f"{ep}.key", optional=False) or "",
                _str(e.get("operator"), f"{ep}.operator", optional=False) or "",
                values,
            )
        )
    return LabelSelector(_str_map(sel.get("matchLabels"), f"{path}.matchLabels"), tuple(exprs))


def network_policy(doc: Any, path: str = "NetworkPolicy") -> NetworkPolicy:
    doc = _obj(doc, path, optional=False)
    meta = _obj(doc.get("metadata"), f"{path}.metadata")
    namespace = _str(meta.get("namespace"), f"{path}.metadata.namespace") or "default"
    name = _str(meta.get("name"), f"{path}.metadata.name", optional=False) or ""
    kind = _str(doc.get("kind"), f"{path}.kind") or "NetworkPolicy"
    spec = _obj(doc.get("spec"), f"{path}.spec")
    if kind == "CiliumNetworkPolicy" or "endpointSelector" in spec:
        # Read and named; its rules (entities, FQDNs, L7) are Cilium's own: not evaluated here.
        return NetworkPolicy(
            namespace,
            name,
            selector(spec.get("endpointSelector"), f"{path}.spec.endpointSelector"),
            (),
            ("Ingress",) if "ingress" in spec or "ingressDeny" in spec else (),
            kind="CiliumNetworkPolicy",
        )
    rules = []
    for i, r in enumerate(_list(spec.get("ingress"), f"{path}.spec.ingress")):
        rp = f"{path}.spec.ingress[{i}]"
        r = _obj(r, rp)
        peers = []
        for j, f in enumerate(_list(r.get("from"), f"{rp}.from")):
            fp = f"{rp}.from[{j}]"
            f = _obj(f, fp, optional=False)
            block = None
            if f.get("ipBlock") is not None:
                b = _obj(f.get("ipBlock"), f"{fp}.ipBlock")
                block = IPBlock(
                    _str(b.get("cidr"), f"{fp}.ipBlock.cidr", optional=False) or "",
                    tuple(str(x) for x in _list(b.get("except"), f"{fp}.ipBlock.except")),
                )
            peers.append(
                Peer(
                    block,
                    selector(f.get("podSelector"), f"{fp}.podSelector") if f.get("podSelector") is not None else None,
                    selector(f.get("namespaceSelector"), f"{fp}.namespaceSelector")
                    if f.get("namespaceSelector") is not None
                    else None,
                )
            )
        ports = []
        for j, p in enumerate(_list(r.get("ports"), f"{rp}.ports")):
            pp = f"{rp}.ports[{j}]"
            p = _obj(p, pp, optional=False)
            ports.append(
                PolicyPort(
                    (_str(p.get("protocol"), f"{pp}.protocol") or "TCP").upper(),
                    _port_value(p.get("port"), f"{pp}.port"),
                    _int(p.get("endPort"), f"{pp}.endPort"),
                )
            )
        rules.append(IngressRule(tuple(peers) or None, tuple(ports) or None))
    types = tuple(str(t) for t in _list(spec.get("policyTypes"), f"{path}.spec.policyTypes"))
    if not types:
        # The API server's default: Ingress always, Egress when egress rules are given.
        types = ("Ingress", "Egress") if spec.get("egress") else ("Ingress",)
    return NetworkPolicy(
        namespace,
        name,
        selector(spec.get("podSelector"), f"{path}.spec.podSelector"),
        tuple(rules),
        types,
    )


# -- reading them (through a KubeSource; GETs only) ------------------------------------------------


CILIUM_NOT_SERVED = "CiliumNetworkPolicy is not served by this cluster (no Cilium CRD): only NetworkPolicies read"


def selector_text(selector) -> str | None:
    """A Service's spec.selector as a label selector for the pods list (None: selects nothing)."""
    if not selector:
        return None
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def read_workload(kube, service) -> tuple[list | None, list | None, list[str]]:
    """(pod docs, policy docs, notes): the pods the Service selects and the namespace's policies.

    Bounded lists (label selector, limit). A 403, or a CRD that is not served, is a note: the rest of
    the diagnosis does not depend on them.
    """
    from akslbctl.errors import DeadlineExceeded, EvidenceError, NotFoundError

    notes: list[str] = []
    pods = None
    selector = selector_text(service.selector)
    if selector:
        try:
            pods = [slim_pod(d) for d in kube.pods(service.namespace, selector)]
        except DeadlineExceeded:
            raise
        except EvidenceError as exc:
            notes.append(f"pods of {service.ref} not read ({_why(exc)}): no readiness ports or per-pod share")
    else:
        pods = []
    policies = None
    try:
        policies = list(kube.network_policies(service.namespace))
    except DeadlineExceeded:
        raise
    except EvidenceError as exc:
        notes.append(f"NetworkPolicies of namespace {service.namespace} not read ({_why(exc)}): not evaluated")
    if policies is not None:
        try:
            policies.extend(
                dict(d, kind="CiliumNetworkPolicy") for d in kube.cilium_network_policies(service.namespace)
            )
        except DeadlineExceeded:
            raise
        except NotFoundError:
            notes.append(CILIUM_NOT_SERVED)
        except EvidenceError as exc:
            notes.append(f"CiliumNetworkPolicies of namespace {service.namespace} not read ({_why(exc)})")
    return pods, policies, notes


def _why(exc) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return "403 Forbidden" if "403" in text else " ".join(text.split())[:120]


REDACTED = "<redacted>"


def slim_pod(doc: Any) -> Any:
    """What akslbctl needs of a Pod, nothing more: a pod's env, volumes and commands can hold secrets,
    and so can a readinessProbe's header values (kept: the header names)."""
    if not isinstance(doc, dict):
        return doc
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
    status = doc.get("status") if isinstance(doc.get("status"), dict) else {}
    containers = []
    for c in spec.get("containers") or []:
        if not isinstance(c, dict):
            continue
        slim = {k: c[k] for k in ("name", "image", "ports") if k in c}
        probe = c.get("readinessProbe")
        if isinstance(probe, dict):
            probe = {k: v for k, v in probe.items() if k != "exec"}
            get = probe.get("httpGet")
            if isinstance(get, dict) and isinstance(get.get("httpHeaders"), list):
                probe["httpGet"] = dict(
                    get,
                    httpHeaders=[
                        {"name": h.get("name"), "value": REDACTED} for h in get["httpHeaders"] if isinstance(h, dict)
                    ],
                )
            slim["readinessProbe"] = probe
        containers.append(slim)
    out: dict[str, Any] = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "labels") if k in meta},
        "spec": {
            **{k: spec[k] for k in ("nodeName", "hostNetwork") if k in spec},
            "containers": containers,
        },
        "status": {k: status[k] for k in ("phase", "podIP", "podIPs", "conditions") if k in status},
    }
    return out
