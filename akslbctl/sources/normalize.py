"""One normaliser from raw API documents to the domain model.

Kubernetes objects arrive as the API serves them (camelCase JSON). ARM objects arrive in three shapes
(probe-semantics.md §6.2): the REST wire shape (camelCase, nested ``properties``), the az CLI's
flattened camelCase shape (with ``resourceGroup`` sprinkled on nested objects), and the snake_case
flattened shape of ``azure-mgmt-network`` ≤ 30 ``as_dict()``. All of them become the same objects.

A document of the wrong shape raises :class:`ShapeError` naming the field at fault; callers add where
the document came from (an API, a file) and pick the exit code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from akslbctl.model.azure import (
    Frontend,
    LoadBalancer,
    NetworkInterface,
    Pool,
    PoolMember,
    Probe,
    PublicIP,
    Rule,
    VmState,
    same_id,
)
from akslbctl.model.kube import Endpoint, Event, Node, Service, ServicePort, Taint
from akslbctl.model.network import PrivateLinkService, SecurityGroup, SecurityRule, Subnet, VirtualNetwork


class ShapeError(ValueError):
    """A document does not have the shape its producer documents."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# ---------------------------------------------------------------------------------------------
# Strict for the Service's own objects, lenient for the others


class Ownership:
    """Which objects are the diagnosed Services' own, and what was skipped of the others.

    A resource group's LBs, PIPs and NICs, a cluster's Nodes, a namespace's EndpointSlices hold many
    objects that are not the Service's: one of them with a field of an odd shape or an enum value this
    version does not know (another Service's rule with a new protocol, a hand-made slice) must not end
    the diagnosis. Parsing stays strict for the Service's own objects — named with one of its
    ``prefixes`` or carrying one of its ``ips`` — and skips any other object that does not parse, with a
    note that names it (:attr:`notes`).
    """

    def __init__(self, prefixes: Iterable[str] = (), ips: Iterable[str] = ()) -> None:
        self.prefixes = tuple(p.lower() for p in prefixes if len(p) >= 32)  # a shorter prefix names nothing
        self.ips = tuple(ip for ip in ips if ip)
        self.notes: list[str] = []

    def owns_name(self, name: Any) -> bool:
        return isinstance(name, str) and name.lower().startswith(self.prefixes) if self.prefixes else False

    def owns_doc(self, doc: Any) -> bool:
        """Whether a raw document mentions one of the Services: its prefix anywhere, or one of its IPs."""
        import json

        try:
            text = json.dumps(doc, default=str).lower()
        except (TypeError, ValueError, RecursionError):
            return True  # cannot tell: strict
        return any(p in text for p in self.prefixes) or any(f'"{ip}"' in text for ip in self.ips)

    def skip(self, what: str, exc: ShapeError) -> None:
        self.notes.append(f"skipped {what}, not this Service's: {exc}")


def each(
    fn, docs: Iterable[Any], what: str, ownership: Ownership | None, /, *, own_kind: bool = False, **kw: Any
) -> list[Any]:
    """``fn(doc, f"{what} #{i}")`` for each document, skipping (with a note) a document that does not
    parse and is not the Service's own. ``own_kind``: every document of this kind is the Service's
    (strict); without ``ownership`` everything is strict."""
    out = []
    for i, doc in enumerate(docs):
        got = lenient(fn, doc, f"{what} #{i}", None if own_kind else ownership, **kw)
        if got is not None:
            out.append(got)
    return out


def lenient(fn, doc: Any, path: str, ownership: Ownership | None, source: str = "", /, **kw: Any) -> Any:
    """``fn(doc, path)``; or None, with a note in ``ownership``, when the document does not parse and is
    not the Service's own. Without ``ownership``: strict. ``source`` (a file) prefixes the note."""
    try:
        return fn(doc, path, **kw) if kw else fn(doc, path)
    except ShapeError as exc:
        if ownership is None or ownership.owns_doc(doc):
            raise
        name = _doc_name(doc)
        ownership.skip(f"{source}{path}{f' ({name})' if name else ''}", exc)
        return None


SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def slice_of(doc: Any, namespace: str, name: str, *, require_label: bool = True) -> bool:
    """Whether an EndpointSlice belongs to the Service ``namespace/name``: its ``kubernetes.io/service-name``
    label names the Service (what kube-proxy goes by), and its namespace is the Service's.

    A server may ignore the label selector and hand out every slice of the namespace, and a dump may
    hold them all: those of other Services are not this Service's endpoints. ``require_label=False``
    keeps a slice without any such label (a hand-trimmed dump); the API always sets it.
    """
    if not isinstance(doc, Mapping):
        return not require_label
    meta = doc.get("metadata")
    if not isinstance(meta, Mapping):
        return not require_label
    ns = meta.get("namespace")
    if isinstance(ns, str) and ns and ns != namespace:
        return False
    labels = meta.get("labels")
    owner = labels.get(SERVICE_NAME_LABEL) if isinstance(labels, Mapping) else None
    if owner is None:
        return not require_label
    return owner == name


def event_about(doc: Any, namespace: str, name: str) -> bool:
    """Whether an Event is about the Service ``namespace/name`` (``involvedObject``, or ``regarding`` in
    events.k8s.io): a server that ignored the field selector hands out the namespace's every event."""
    if not isinstance(doc, Mapping):
        return False
    ref = doc.get("involvedObject") or doc.get("regarding") or {}
    if not isinstance(ref, Mapping):
        return False
    meta = doc.get("metadata")
    ns = ref.get("namespace") or (meta.get("namespace") if isinstance(meta, Mapping) else None)
    return ref.get("kind") == "Service" and ref.get("name") == name and ns in (None, namespace)


def _doc_name(doc: Any) -> str | None:
    if not isinstance(doc, Mapping):
        return None
    meta = doc.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else doc.get("name")
    return name[:80] if isinstance(name, str) and name else None


# ---------------------------------------------------------------------------------------------
# Typed field access with a path for error messages


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _obj(value: Any, path: str, *, optional: bool = True) -> Mapping[str, Any]:
    if type(value) is dict:  # what JSON gives, nearly always: no ABC check
        return value
    if value is None and optional:
        return {}
    if not isinstance(value, Mapping):
        raise ShapeError(path, f"expected an object, got {_type_name(value)}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if type(value) is list:
        return value
    if value is None:
        return []
    if not isinstance(value, list):
        raise ShapeError(path, f"expected a list, got {_type_name(value)}")
    return value


def _str(value: Any, path: str, *, optional: bool = True) -> str | None:
    if type(value) is str:
        return value
    if value is None:
        if optional:
            return None
        raise ShapeError(path, "is missing")
    if not isinstance(value, str):
        raise ShapeError(path, f"expected a string, got {_type_name(value)}")
    return value


def _int(value: Any, path: str, *, optional: bool = True) -> int | None:
    if value is None:
        if optional:
            return None
        raise ShapeError(path, "is missing")
    if isinstance(value, bool):
        raise ShapeError(path, "expected a number, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ShapeError(path, f"expected a whole number, got {_type_name(value)}")


def _bool(value: Any, path: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ShapeError(path, f"expected a boolean, got {_type_name(value)}")


def _str_map(value: Any, path: str) -> dict[str, str]:
    items = _obj(value, path).items()
    if type(value) is dict and all(type(k) is str and type(v) is str for k, v in items):
        return dict(value)  # labels and annotations as the API gives them: strings only
    out: dict[str, str] = {}
    for key, val in items:
        if val is None:
            continue
        if not isinstance(val, (str, int, float, bool)):
            raise ShapeError(f"{path}.{key}", f"expected a string, got {_type_name(val)}")
        out[str(key)] = val if isinstance(val, str) else str(val).lower() if isinstance(val, bool) else str(val)
    return out


# ---------------------------------------------------------------------------------------------
# Kubernetes


def service(doc: Any, path: str = "Service") -> Service:
    doc = _obj(doc, path, optional=False)
    meta = _obj(doc.get("metadata"), f"{path}.metadata")
    spec = _obj(doc.get("spec"), f"{path}.spec")
    status = _obj(doc.get("status"), f"{path}.status")
    name = _str(meta.get("name"), f"{path}.metadata.name", optional=False)
    ports = []
    for i, p in enumerate(_list(spec.get("ports"), f"{path}.spec.ports")):
        pp = f"{path}.spec.ports[{i}]"
        p = _obj(p, pp, optional=False)
        target = p.get("targetPort")
        if target is not None and not isinstance(target, (int, str)) or isinstance(target, bool):
            raise ShapeError(f"{pp}.targetPort", f"expected a number or a name, got {_type_name(target)}")
        ports.append(
            ServicePort(
                port=_int(p.get("port"), f"{pp}.port", optional=False),
                protocol=(_str(p.get("protocol"), f"{pp}.protocol") or "TCP").upper(),
                name=_str(p.get("name"), f"{pp}.name") or "",
                node_port=_int(p.get("nodePort"), f"{pp}.nodePort") or None,
                target_port=target,
                app_protocol=_str(p.get("appProtocol"), f"{pp}.appProtocol"),
            )
        )
    lb_status = _obj(status.get("loadBalancer"), f"{path}.status.loadBalancer")
    ingress = []
    for i, ing in enumerate(_list(lb_status.get("ingress"), f"{path}.status.loadBalancer.ingress")):
        ing = _obj(ing, f"{path}.status.loadBalancer.ingress[{i}]")
        ip = _str(ing.get("ip"), f"{path}.status.loadBalancer.ingress[{i}].ip")
        if ip:
            ingress.append(ip)
    families = tuple(
        _str(f, f"{path}.spec.ipFamilies[{i}]", optional=False)
        for i, f in enumerate(_list(spec.get("ipFamilies"), f"{path}.spec.ipFamilies"))
    )
    allocate = _bool(spec.get("allocateLoadBalancerNodePorts"), f"{path}.spec.allocateLoadBalancerNodePorts")
    selector = spec.get("selector")
    return Service(
        namespace=_str(meta.get("namespace"), f"{path}.metadata.namespace") or "default",
        name=name,
        uid=_str(meta.get("uid"), f"{path}.metadata.uid") or "",
        type=_str(spec.get("type"), f"{path}.spec.type") or "ClusterIP",
        ports=tuple(ports),
        external_traffic_policy=_str(spec.get("externalTrafficPolicy"), f"{path}.spec.externalTrafficPolicy")
        or "Cluster",
        health_check_node_port=_int(spec.get("healthCheckNodePort"), f"{path}.spec.healthCheckNodePort") or None,
        annotations=_str_map(meta.get("annotations"), f"{path}.metadata.annotations"),
        labels=_str_map(meta.get("labels"), f"{path}.metadata.labels"),
        ingress_ips=tuple(ingress),
        load_balancer_ip=_str(spec.get("loadBalancerIP"), f"{path}.spec.loadBalancerIP") or None,
        load_balancer_class=_str(spec.get("loadBalancerClass"), f"{path}.spec.loadBalancerClass") or None,
        ip_families=families,
        session_affinity=_str(spec.get("sessionAffinity"), f"{path}.spec.sessionAffinity") or "None",
        selector=_str_map(selector, f"{path}.spec.selector") if selector is not None else None,
        allocate_load_balancer_node_ports=True if allocate is None else allocate,
        load_balancer_source_ranges=tuple(
            r.strip()
            for i, v in enumerate(_list(spec.get("loadBalancerSourceRanges"), f"{path}.spec.loadBalancerSourceRanges"))
            if (r := _str(v, f"{path}.spec.loadBalancerSourceRanges[{i}]", optional=False)).strip()
        ),
    )


def node(doc: Any, path: str = "Node") -> Node:
    plain = _plain_node(doc)
    if plain is not None:
        return plain
    doc = _obj(doc, path, optional=False)
    meta = _obj(doc.get("metadata"), f"{path}.metadata")
    spec = _obj(doc.get("spec"), f"{path}.spec")
    status = _obj(doc.get("status"), f"{path}.status")
    ips = []
    for i, a in enumerate(_list(status.get("addresses"), f"{path}.status.addresses")):
        a = _obj(a, f"{path}.status.addresses[{i}]")
        if a.get("type") == "InternalIP":
            ip = _str(a.get("address"), f"{path}.status.addresses[{i}].address")
            if ip:
                ips.append(ip)
    taints = []
    for i, t in enumerate(_list(spec.get("taints"), f"{path}.spec.taints")):
        t = _obj(t, f"{path}.spec.taints[{i}]")
        taints.append(
            Taint(
                key=_str(t.get("key"), f"{path}.spec.taints[{i}].key") or "",
                value=_str(t.get("value"), f"{path}.spec.taints[{i}].value") or "",
                effect=_str(t.get("effect"), f"{path}.spec.taints[{i}].effect") or "",
            )
        )
    ready = None
    for i, c in enumerate(_list(status.get("conditions"), f"{path}.status.conditions")):
        c = _obj(c, f"{path}.status.conditions[{i}]")
        if c.get("type") == "Ready":
            ready = c.get("status") == "True"
    return Node(
        name=_str(meta.get("name"), f"{path}.metadata.name", optional=False),
        internal_ips=tuple(ips),
        provider_id=_str(spec.get("providerID"), f"{path}.spec.providerID") or "",
        labels=_str_map(meta.get("labels"), f"{path}.metadata.labels"),
        taints=tuple(taints),
        ready=ready,
        unschedulable=bool(_bool(spec.get("unschedulable"), f"{path}.spec.unschedulable")),
        deleting=meta.get("deletionTimestamp") is not None,
    )


def _plain_node(doc: Any) -> Node | None:
    """:func:`node` of a Node as the API writes it — objects, lists and strings where they belong —
    without the path of every field worked out in advance for an error that does not come (half of
    the time of a 1,000-node list); None for anything else, which :func:`node` then reads field by
    field and names what is wrong."""
    if type(doc) is not dict:
        return None
    meta, spec, status = doc.get("metadata", _ABSENT), doc.get("spec", _ABSENT), doc.get("status", _ABSENT)
    if type(meta) is not dict or type(spec) is not dict or type(status) is not dict:
        return None
    addresses = status.get("addresses")
    conditions = status.get("conditions")
    name, provider_id, labels = meta.get("name"), spec.get("providerID", ""), meta.get("labels", _ABSENT)
    if type(addresses) is not list or type(conditions) is not list or type(name) is not str:
        return None
    unschedulable = spec.get("unschedulable")
    if type(provider_id) is not str or type(labels) is not dict or type(unschedulable) not in _BOOL_OR_NONE:
        return None
    listed = spec.get("taints")
    if type(listed) not in _LIST_OR_NONE:
        return None
    taints = []
    for t in listed or ():
        if type(t) is not dict:
            return None
        key, value, effect = t.get("key"), t.get("value"), t.get("effect")
        if not (type(key) in _STR_OR_NONE and type(value) in _STR_OR_NONE and type(effect) in _STR_OR_NONE):
            return None
        taints.append(Taint(key=key or "", value=value or "", effect=effect or ""))
    ips = []
    for a in addresses:
        if type(a) is not dict:
            return None
        if a.get("type") == "InternalIP":
            ip = a.get("address")
            if type(ip) is not str:
                return None
            if ip:
                ips.append(ip)
    ready = None
    for c in conditions:
        if type(c) is not dict:
            return None
        if c.get("type") == "Ready":
            ready = c.get("status") == "True"
    for key, value in labels.items():
        if type(key) is not str or type(value) is not str:
            return None
    return Node(
        name=name,
        internal_ips=tuple(ips),
        provider_id=provider_id,
        labels=dict(labels),
        taints=tuple(taints),
        ready=ready,
        unschedulable=bool(unschedulable),
        deleting=meta.get("deletionTimestamp") is not None,
    )


_ABSENT = object()  # a key the document does not have (None where it has the key with a null)
# The types a field may have in a document as the API writes it (the quick readings check these).
_STR_OR_NONE = (str, type(None))
_BOOL_OR_NONE = (bool, type(None))
_LIST_OR_NONE = (list, type(None))


def endpoints(slice_doc: Any, path: str = "EndpointSlice") -> list[Endpoint]:
    doc = _obj(slice_doc, path, optional=False)
    out = []
    for i, e in enumerate(_list(doc.get("endpoints"), f"{path}.endpoints")):
        ep = f"{path}.endpoints[{i}]"
        e = _obj(e, ep, optional=False)
        cond = _obj(e.get("conditions"), f"{ep}.conditions")
        ready = _bool(cond.get("ready"), f"{ep}.conditions.ready")
        serving = _bool(cond.get("serving"), f"{ep}.conditions.serving")
        terminating = _bool(cond.get("terminating"), f"{ep}.conditions.terminating")
        ref = _obj(e.get("targetRef"), f"{ep}.targetRef")
        target = None
        if ref.get("kind"):
            target = f"{ref.get('kind')}/{ref.get('namespace') or ''}/{ref.get('name') or ''}"
        addresses = tuple(
            _str(a, f"{ep}.addresses[{j}]", optional=False)
            for j, a in enumerate(_list(e.get("addresses"), f"{ep}.addresses"))
        )
        out.append(
            Endpoint(
                addresses=addresses,
                node_name=_str(e.get("nodeName"), f"{ep}.nodeName"),
                # The API: a nil ready/serving condition means true, a nil terminating means false.
                ready=True if ready is None else ready,
                serving=(True if ready is None else ready) if serving is None else serving,
                terminating=bool(terminating),
                target_ref=target,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# ARM

_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


@lru_cache(maxsize=256)
def _snake(name: str) -> str:
    return _CAMEL.sub(r"\1_\2", _ACRONYM.sub(r"\1_\2", name)).lower()


class _Arm:
    """A view of one ARM object: nested ``properties`` folded in, camelCase or snake_case keys."""

    __slots__ = ("doc", "path", "props")

    def __init__(self, doc: Any, path: str) -> None:
        self.doc = _obj(doc, path, optional=False)
        self.path = path
        props = self.doc.get("properties")
        self.props = _obj(props, f"{path}.properties") if props is not None else {}

    def raw(self, key: str) -> Any:
        for source in (self.props, self.doc):
            if key in source:
                return source[key]
            snake = _snake(key)
            if snake in source:
                return source[snake]
        return None

    def sub(self, key: str) -> str:
        return f"{self.path}.{key}"

    def str(self, key: str, *, optional: bool = True) -> str | None:
        value = self.raw(key)
        if type(value) is str:  # as nearly always: no path worked out for an error that does not come
            return value
        return _str(value, self.sub(key), optional=optional)

    def int(self, key: str) -> int | None:
        return _int(self.raw(key), self.sub(key))

    def bool(self, key: str) -> bool | None:
        return _bool(self.raw(key), self.sub(key))

    def ref(self, key: str) -> str | None:
        """An ``{"id": …}`` reference."""
        value = self.raw(key)
        if value is None:
            return None
        if type(value) is dict:
            rid = value.get("id")
            if rid is None or type(rid) is str:
                return rid
        return _str(_obj(value, self.sub(key)).get("id"), f"{self.sub(key)}.id")

    def refs(self, key: str) -> list[str]:
        value = self.raw(key)
        if value is None:
            return []
        if type(value) is list:
            quick = []
            for item in value:
                rid = item.get("id") if type(item) is dict else 0
                if type(rid) is str:
                    if rid:
                        quick.append(rid)
                elif rid is not None:
                    break  # something else: the reading below says what
            else:
                return quick
        out = []
        for i, item in enumerate(_list(value, self.sub(key))):
            rid = _str(_obj(item, f"{self.sub(key)}[{i}]").get("id"), f"{self.sub(key)}[{i}].id")
            if rid:
                out.append(rid)
        return out

    def items(self, key: str) -> list[_Arm]:
        return [_Arm(item, f"{self.sub(key)}[{i}]") for i, item in enumerate(_list(self.raw(key), self.sub(key)))]

    @property
    def id(self) -> str:
        rid = self.doc.get("id")
        if type(rid) is str:
            return rid
        return _str(rid, f"{self.path}.id") or ""

    @property
    def name(self) -> str:
        name = _str(self.doc.get("name"), f"{self.path}.name")
        return name or self.id.rstrip("/").rsplit("/", 1)[-1]


def parse_arm_id(resource_id: str) -> dict[str, str]:
    """``/subscriptions/S/resourceGroups/RG/providers/…`` → {"subscriptions": S, "resourcegroups": RG, …}.

    Keys are the lower-cased segment names; values keep their case.
    """
    parts = [p for p in resource_id.split("/") if p]
    out: dict[str, str] = {}
    for i in range(0, len(parts) - 1, 2):
        out.setdefault(parts[i].lower(), parts[i + 1])
    return out


def _owned_items(lb: _Arm, key: str, what: str, ownership: Ownership | None):
    """(item view, skip-on-error) for each item of ``key``: an item of another Service that does not
    parse is skipped with a note (``ownership``); the Service's own, and any item without ownership,
    stay strict. A frontend is the Service's when it carries one of its IPs, too."""
    for i, raw in enumerate(_list(lb.raw(key), lb.sub(key))):
        path = f"{lb.sub(key)}[{i}]"
        own = ownership is None or ownership.owns_name(raw.get("name") if isinstance(raw, Mapping) else None)
        if not own and what == "frontend":
            own = ownership.owns_doc(raw)
        try:
            item = _Arm(raw, path)
        except ShapeError as exc:
            if own:
                raise
            ownership.skip(f"{what} {path} of load balancer {lb.name}", exc)
            continue
        yield item, not own


def _lenient(ownership: Ownership | None, lb: _Arm, what: str, item: _Arm, build):
    try:
        return build()
    except ShapeError as exc:
        if ownership is None:
            raise
        ownership.skip(f"{what} {_doc_name(item.doc) or item.path} of load balancer {lb.name}", exc)
        return None


def load_balancer(doc: Any, path: str = "LoadBalancer", ownership: Ownership | None = None) -> LoadBalancer:
    """An LB. With ``ownership``, a frontend, rule or probe of another Service that does not parse is
    skipped with a note, and the rest of the LB is read; the Service's own objects stay strict."""
    lb = _Arm(doc, path)
    ids = parse_arm_id(lb.id)
    sku = lb.raw("sku")
    sku_name = _str(_obj(sku, lb.sub("sku")).get("name"), lb.sub("sku.name")) if sku is not None else None
    frontends = []
    for f, lenient in _owned_items(lb, "frontendIPConfigurations", "frontend", ownership):

        def frontend(f=f) -> Frontend:
            return Frontend(
                id=f.id,
                name=f.name,
                private_ip=f.str("privateIPAddress"),
                public_ip_id=f.ref("publicIPAddress"),
                subnet_id=f.ref("subnet"),
                private_ip_version=f.str("privateIPAddressVersion"),
            )

        got = _lenient(ownership if lenient else None, lb, "frontend", f, frontend)
        if got is not None:
            frontends.append(got)
    rules = []
    for r, lenient in _owned_items(lb, "loadBalancingRules", "rule", ownership):
        got = _lenient(ownership if lenient else None, lb, "rule", r, lambda r=r: _rule(r))
        if got is not None:
            rules.append(got)
    probes = []
    for p, lenient in _owned_items(lb, "probes", "probe", ownership):
        got = _lenient(ownership if lenient else None, lb, "probe", p, lambda p=p: _probe(p))
        if got is not None:
            probes.append(got)
    # A pool is the Service's when one of its rules uses it (the cluster's shared pool): strict; another
    # pool (an outbound pool, another cluster's) that does not parse is skipped.
    ours = [r for r in rules if ownership is None or ownership.owns_name(r.name)]
    used = {pid.lower() for r in ours for pid in r.backend_pool_ids}
    pools = []
    for p, _ in _owned_items(lb, "backendAddressPools", "pool", None):
        lenient = ownership is not None and p.id.lower() not in used
        got = _lenient(ownership if lenient else None, lb, "pool", p, lambda p=p: _pool(p))
        if got is not None:
            pools.append(got)
    return LoadBalancer(
        id=lb.id,
        name=lb.name,
        resource_group=ids.get("resourcegroups", "")
        or _str(lb.doc.get("resourceGroup") or lb.doc.get("resource_group"), lb.sub("resourceGroup"))
        or "",
        subscription=ids.get("subscriptions", ""),
        sku=sku_name,
        frontends=tuple(frontends),
        rules=tuple(rules),
        probes=tuple(probes),
        pools=tuple(pools),
    )


def _rule(r: _Arm) -> Rule:
    pools = [p for p in [r.ref("backendAddressPool"), *r.refs("backendAddressPools")] if p]
    unique: list[str] = []
    for p in pools:
        if not any(same_id(p, u) for u in unique):
            unique.append(p)
    return Rule(
        id=r.id,
        name=r.name,
        protocol=_arm_enum(r.str("protocol", optional=False), r.sub("protocol"), _RULE_PROTOCOLS),
        frontend_port=_int(r.raw("frontendPort"), r.sub("frontendPort"), optional=False),
        backend_port=_int(r.raw("backendPort"), r.sub("backendPort")) or 0,
        frontend_id=r.ref("frontendIPConfiguration"),
        backend_pool_ids=tuple(unique),
        probe_id=r.ref("probe"),
        enable_floating_ip=r.bool("enableFloatingIP"),
        idle_timeout=r.int("idleTimeoutInMinutes"),
        enable_tcp_reset=r.bool("enableTcpReset"),
        disable_outbound_snat=r.bool("disableOutboundSnat"),
        load_distribution=r.str("loadDistribution"),
    )


def _probe(p: _Arm) -> Probe:
    return Probe(
        id=p.id,
        name=p.name,
        protocol=_arm_enum(p.str("protocol", optional=False), p.sub("protocol"), _PROBE_PROTOCOLS),
        port=_int(p.raw("port"), p.sub("port"), optional=False),
        request_path=p.str("requestPath"),
        interval=p.int("intervalInSeconds"),
        probe_threshold=p.int("probeThreshold"),
        number_of_probes=p.int("numberOfProbes"),
    )


_RULE_PROTOCOLS = ("Tcp", "Udp", "All")
_PROBE_PROTOCOLS = ("Tcp", "Http", "Https")


def _arm_enum(value: str | None, path: str, allowed: tuple[str, ...]) -> str:
    for a in allowed:
        if value is not None and value.lower() == a.lower():
            return a
    raise ShapeError(path, f"expected one of {', '.join(allowed)}, got {value!r}")


def _pool(p: _Arm) -> Pool:
    members: list[PoolMember] = [PoolMember(ipconfig_id=i) for i in p.refs("backendIPConfigurations")]
    for a in p.items("loadBalancerBackendAddresses"):
        ipconfig = a.ref("networkInterfaceIPConfiguration")
        ip = a.str("ipAddress")
        admin = a.str("adminState")
        if ipconfig and not ip:
            # ARM echoes NIC pool members here too; they are already listed above.
            known = next((i for i, m in enumerate(members) if same_id(m.ipconfig_id, ipconfig)), None)
            if known is not None:
                if admin:
                    members[known] = PoolMember(ipconfig_id=ipconfig, admin_state=admin)
                continue
        if not ipconfig and not ip:
            continue
        members.append(PoolMember(ipconfig_id=ipconfig, ip_address=ip, name=a.name or None, admin_state=admin))
    return Pool(id=p.id, name=p.name, members=tuple(members), virtual_network_id=p.ref("virtualNetwork"))


def public_ip(doc: Any, path: str = "PublicIPAddress") -> PublicIP:
    pip = _Arm(doc, path)
    return PublicIP(
        id=pip.id,
        name=pip.name,
        ip_address=pip.str("ipAddress"),
        tags=_str_map(pip.doc.get("tags"), pip.sub("tags")),
    )


def network_interface(doc: Any, path: str = "NetworkInterface") -> NetworkInterface:
    nic = _Arm(doc, path)
    configs = nic.items("ipConfigurations")
    return NetworkInterface(
        id=nic.id,
        vm_id=nic.ref("virtualMachine"),
        ipconfigs={c.id.lower(): c.str("privateIPAddress") for c in configs},
        nsg_id=nic.ref("networkSecurityGroup"),
        subnets={c.id.lower(): c.ref("subnet") for c in configs},
        pools={c.id.lower(): refs for c in configs if (refs := tuple(c.refs("loadBalancerBackendAddressPools")))},
    )


def vm_state(doc: Any, path: str = "InstanceView") -> VmState:
    """An instance view as akslbctl records it: ``{"id": VM id, "statuses": [{"code": …}, …]}``.

    ``statuses[].code`` is ``PowerState/running``, ``ProvisioningState/succeeded`` … (VM and VMSS
    instance views alike).
    """
    doc = _obj(doc, path, optional=False)
    vm_id = _str(doc.get("id"), f"{path}.id", optional=False)
    power = provisioning = None
    for i, st in enumerate(_list(doc.get("statuses"), f"{path}.statuses")):
        st = _obj(st, f"{path}.statuses[{i}]")
        code = _str(st.get("code"), f"{path}.statuses[{i}].code") or ""
        kind, _, value = code.partition("/")
        if kind == "PowerState" and value:
            power = value
        elif kind == "ProvisioningState" and value:
            provisioning = value
    return VmState(id=vm_id, power_state=power, provisioning_state=provisioning)


def event(doc: Any, path: str = "Event") -> Event:
    """A core/v1 Event or an events.k8s.io/v1 Event, in one shape.

    core/v1: ``reason``, ``message``, ``count``, ``lastTimestamp`` (or ``eventTime``), ``source.component``;
    events.k8s.io/v1: ``reason``, ``note``, ``series.count`` (or ``deprecatedCount``), ``series.lastObservedTime``
    / ``eventTime`` / ``deprecatedLastTimestamp``, ``reportingController``.
    """
    doc = _obj(doc, path, optional=False)
    meta = _obj(doc.get("metadata"), f"{path}.metadata")
    series = _obj(doc.get("series"), f"{path}.series")
    source = _obj(doc.get("source"), f"{path}.source")
    message = doc.get("message") if "message" in doc else doc.get("note")
    count = _int(doc.get("count"), f"{path}.count")
    if count is None:
        count = _int(series.get("count"), f"{path}.series.count") or _int(
            doc.get("deprecatedCount"), f"{path}.deprecatedCount"
        )
    last = None
    for key, where in (
        ("lastObservedTime", series),
        ("lastTimestamp", doc),
        ("deprecatedLastTimestamp", doc),
        ("eventTime", doc),
        ("creationTimestamp", meta),
    ):
        value = where.get(key)
        if isinstance(value, str) and value:
            last = value
            break
    first = doc.get("firstTimestamp") or doc.get("deprecatedFirstTimestamp") or doc.get("eventTime")
    return Event(
        reason=_str(doc.get("reason"), f"{path}.reason") or "",
        message=_str(message, f"{path}.message") or "",
        type=_str(doc.get("type"), f"{path}.type") or "Normal",
        count=max(1, count or 1),
        last_seen=last,
        first_seen=first if isinstance(first, str) else None,
        source=(
            _str(source.get("component"), f"{path}.source.component")
            or _str(doc.get("reportingController"), f"{path}.reportingController")
            or _str(doc.get("reportingComponent"), f"{path}.reportingComponent")
            or ""
        ),
    )


# ---------------------------------------------------------------------------------------------
# ARM: the network path (NSGs, subnets, VNets, Private Link Services)

_NSG_PROTOCOLS = ("Tcp", "Udp", "Icmp", "Esp", "Ah", "*")
_NSG_ACCESS = ("Allow", "Deny")
_NSG_DIRECTIONS = ("Inbound", "Outbound")


def security_group(doc: Any, path: str = "NetworkSecurityGroup") -> SecurityGroup:
    """An NSG: ``securityRules`` as the owner wrote them, ``defaultSecurityRules`` flagged ``default``."""
    nsg = _Arm(doc, path)
    return SecurityGroup(
        id=nsg.id,
        name=nsg.name,
        rules=tuple(_security_rule(r) for r in nsg.items("securityRules")),
        default_rules=tuple(_security_rule(r, default=True) for r in nsg.items("defaultSecurityRules")),
    )


def _security_rule(r: _Arm, *, default: bool = False) -> SecurityRule:
    source_asgs = tuple(r.refs("sourceApplicationSecurityGroups"))
    destination_asgs = tuple(r.refs("destinationApplicationSecurityGroups"))
    protocol = r.str("protocol", optional=False)
    return SecurityRule(
        name=r.name,
        priority=_int(r.raw("priority"), r.sub("priority"), optional=False),
        direction=_arm_enum(r.str("direction", optional=False), r.sub("direction"), _NSG_DIRECTIONS),
        access=_arm_enum(r.str("access", optional=False), r.sub("access"), _NSG_ACCESS),
        # A protocol ARM may add later is kept as spelled: it matches neither Tcp nor Udp.
        protocol=next((p for p in _NSG_PROTOCOLS if p.lower() == protocol.lower()), protocol),
        # ARM sets a prefix or an application security group on each side; neither means any.
        source_prefixes=_merged(r, "sourceAddressPrefix", "sourceAddressPrefixes", any_when_empty=not source_asgs),
        destination_prefixes=_merged(
            r, "destinationAddressPrefix", "destinationAddressPrefixes", any_when_empty=not destination_asgs
        ),
        source_ports=_merged(r, "sourcePortRange", "sourcePortRanges"),
        destination_ports=_merged(r, "destinationPortRange", "destinationPortRanges"),
        source_asgs=source_asgs,
        destination_asgs=destination_asgs,
        default=default,
    )


def _merged(a: _Arm, singular: str, plural: str, *, any_when_empty: bool = True) -> tuple[str, ...]:
    """ARM's singular and plural forms of one field as one tuple (an empty singular is no value)."""
    values = [a.str(singular) or "", *_strs(a, plural)]
    out = tuple(dict.fromkeys(v for v in values if v))
    return out or (("*",) if any_when_empty else ())


def _strs(a: _Arm, key: str) -> list[str]:
    return [_str(v, f"{a.sub(key)}[{i}]", optional=False) for i, v in enumerate(_list(a.raw(key), a.sub(key)))]


def _nested(a: _Arm, key: str) -> _Arm | None:
    """A nested object that is not a reference (``addressSpace``, ``remoteAddressSpace``)."""
    value = a.raw(key)
    return None if value is None else _Arm(value, a.sub(key))


def subnet(doc: Any, path: str = "Subnet") -> Subnet:
    s = _Arm(doc, path)
    return Subnet(
        id=s.id,
        name=s.name,
        address_prefixes=_merged(s, "addressPrefix", "addressPrefixes", any_when_empty=False),
        nsg_id=s.ref("networkSecurityGroup"),
    )


def virtual_network(doc: Any, path: str = "VirtualNetwork") -> VirtualNetwork:
    """A VNet, its inline subnets and the address space of its connected peerings."""
    vnet = _Arm(doc, path)
    space = _nested(vnet, "addressSpace")
    peered: list[str] = []
    for p in vnet.items("virtualNetworkPeerings"):
        state = p.str("peeringState")
        if state is not None and state.lower() != "connected":
            continue  # Initiated or Disconnected: no traffic crosses it
        remote = _nested(p, "remoteAddressSpace")
        if remote is not None:
            peered.extend(_strs(remote, "addressPrefixes"))
    return VirtualNetwork(
        id=vnet.id,
        name=vnet.name,
        address_prefixes=tuple(dict.fromkeys(_strs(space, "addressPrefixes"))) if space is not None else (),
        peered_prefixes=tuple(dict.fromkeys(peered)),
        subnets=tuple(
            subnet(s, f"{vnet.sub('subnets')}[{i}]")
            for i, s in enumerate(_list(vnet.raw("subnets"), vnet.sub("subnets")))
        ),
    )


def private_link_service(doc: Any, path: str = "PrivateLinkService") -> PrivateLinkService:
    pls = _Arm(doc, path)
    return PrivateLinkService(
        id=pls.id,
        name=pls.name,
        frontend_ids=tuple(pls.refs("loadBalancerFrontendIpConfigurations")),
        proxy_protocol=bool(pls.bool("enableProxyProtocol")),
    )
