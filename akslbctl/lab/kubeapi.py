"""The lab's Kubernetes API server: a cluster's JSON documents at the real paths, read-only.

What a real API server does that a client can notice is reproduced: list objects (``ServiceList``
…) whose items carry no ``kind``/``apiVersion``, ``limit``/``continue`` pagination with opaque
continue tokens and ``remainingItemCount``, ``labelSelector`` and the basic ``fieldSelector``
fields, ``Status`` errors with the API server's own message texts (404, 400, 401, 403, 405) and
bearer-token authentication. Every request other than GET is refused with 405 and recorded as a
write attempt: akslbctl is read-only and the tests assert that it never tries.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from akslbctl.lab.httpserver import App, Request, Response, Route, json_response
from akslbctl.records import record

if TYPE_CHECKING:
    from akslbctl.lab.cluster import LabCluster

Doc = dict[str, Any]


@record(frozen=True)
class Resource:
    plural: str
    kind: str
    group: str  # "" for the core group
    version: str
    namespaced: bool
    fields: tuple[str, ...] = ()  # field selector labels beyond metadata.name / metadata.namespace

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """The name in API server messages: ``services``, ``endpointslices.discovery.k8s.io``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES = (
    Resource("namespaces", "Namespace", "", "v1", False, ("status.phase",)),
    Resource("nodes", "Node", "", "v1", False, ("spec.unschedulable",)),
    Resource("services", "Service", "", "v1", True),
    Resource(
        "events",
        "Event",
        "",
        "v1",
        True,
        (
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ),
    ),
    Resource("endpointslices", "EndpointSlice", "discovery.k8s.io", "v1", True),
    # v1 Endpoints, derived from the EndpointSlices as the endpoints mirroring controller keeps them:
    # what `kubectl describe svc` prints as "Endpoints:" (akslbctl itself reads the slices).
    Resource("endpoints", "Endpoints", "", "v1", True),
    Resource("networkpolicies", "NetworkPolicy", "networking.k8s.io", "v1", True),
    Resource("pods", "Pod", "", "v1", True, ("spec.nodeName", "status.phase")),
    Resource("ciliumnetworkpolicies", "CiliumNetworkPolicy", "cilium.io", "v2", True),
)
_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}

# What discovery says of each resource beyond RESOURCES: singular name, short names, categories — what
# kubectl resolves ``svc``, ``no``, ``ev`` and ``kubectl get all`` through.
_DISCOVERY: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "namespaces": ("namespace", ("ns",), ()),
    "nodes": ("node", ("no",), ()),
    "services": ("service", ("svc",), ("all",)),
    "events": ("event", ("ev",), ()),
    "endpointslices": ("endpointslice", (), ()),
    "endpoints": ("endpoints", ("ep",), ()),
    "networkpolicies": ("networkpolicy", ("netpol",), ()),
    "pods": ("pod", ("po",), ("all",)),
    "ciliumnetworkpolicies": ("ciliumnetworkpolicy", ("cnp", "ciliumnp"), ("cilium", "ciliumpolicy")),
}
# The lab serves reads only: get and list (no watch: a watch is refused with 405).
_VERBS = ("get", "list")

_METHOD_NOT_ALLOWED = "the server does not allow this method on the requested resource"


def status(code: int, reason: str, message: str, details: Mapping[str, Any] | None = None) -> Response:
    """A ``Status`` document as the API server sends it with an error."""
    doc: Doc = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        doc["details"] = dict(details)
    doc["code"] = code
    return json_response(code, doc)


class SelectorError(ValueError):
    pass


# ---------------------------------------------------------------------------------------------
# Selectors

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET_RE = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_RE = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*$")
_EXISTS_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")


def _split_terms(selector: str) -> list[str]:
    """Split on commas that are not inside ``(…)``."""
    terms, depth, cur = [], 0, []
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    terms.append("".join(cur))
    return [t for t in terms if t.strip()]


def parse_label_selector(selector: str) -> Callable[[Mapping[str, str]], bool]:
    """``app=web,tier!=db,env in (a,b),!legacy`` → a predicate over a label map."""
    checks: list[Callable[[Mapping[str, str]], bool]] = []
    for term in _split_terms(selector):
        m = _SET_RE.match(term)
        if m:
            key, op = m.group(1), m.group(3)
            values = {v.strip() for v in m.group(4).split(",") if v.strip()}
            if op == "in":
                checks.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:
                checks.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
            continue
        m = _EQ_RE.match(term)
        if m:
            key, op, value = m.group(1), m.group(3), m.group(4)
            if op == "!=":
                checks.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                checks.append(lambda labels, k=key, v=value: labels.get(k) == v)
            continue
        m = _EXISTS_RE.match(term)
        if m:
            neg, key = m.group(1), m.group(2)
            if neg:
                checks.append(lambda labels, k=key: k not in labels)
            else:
                checks.append(lambda labels, k=key: k in labels)
            continue
        raise SelectorError(f"unable to parse requirement: found '{term.strip()}', expected: identifier")
    return lambda labels: all(c(labels) for c in checks)


def _field_value(doc: Doc, path: str) -> str:
    cur: Any = doc
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, Mapping) else None
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if path == "source" and isinstance(cur, Mapping):
        return str(cur.get("component", ""))
    return "" if cur is None else str(cur)


def parse_field_selector(selector: str, resource: Resource) -> Callable[[Doc], bool]:
    """``metadata.name=web,spec.unschedulable!=true`` → a predicate; unknown fields are refused."""
    allowed = {"metadata.name", *resource.fields}
    if resource.namespaced:
        allowed.add("metadata.namespace")
    checks: list[Callable[[Doc], bool]] = []
    for term in _split_terms(selector):
        m = re.match(r"^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$", term)
        if not m:
            raise SelectorError(f"invalid selector: '{selector}'; can't understand '{term.strip()}'")
        key, op, value = m.groups()
        if key not in allowed:
            raise SelectorError(f"field label not supported: {key}")
        if op == "!=":
            checks.append(lambda d, k=key, v=value: _field_value(d, k) != v)
        else:
            checks.append(lambda d, k=key, v=value: _field_value(d, k) == v)
    return lambda d: all(c(d) for c in checks)


# ---------------------------------------------------------------------------------------------
# Continue tokens


def _encode_continue(rv: int, start_after: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start_after + "\x00"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        doc = json.loads(raw)
        if doc.get("v") != "meta.k8s.io/v1":
            raise ValueError("continue key is not valid: incorrect encoded start resourceVersion")
        start = doc["start"]
        if not isinstance(start, str) or not start.endswith("\x00"):
            raise ValueError("continue key is not valid: invalid start key")
        return int(doc["rv"]), start[:-1]
    except ValueError as exc:
        if str(exc).startswith("continue key"):
            raise
        raise ValueError("continue key is not valid: illegal base64 data or JSON") from None
    except (KeyError, TypeError):
        raise ValueError("continue key is not valid: missing fields") from None


# ---------------------------------------------------------------------------------------------
# The API


class KubeApi(App):
    """Routes for one :class:`~akslbctl.lab.cluster.LabCluster`.

    Objects are indexed once, in the API server's storage order (namespace, then name), so a list
    of 5,000 nodes pages exactly as etcd would hand it out.
    """

    def __init__(self, cluster: LabCluster, token: str, *, user: str = "lab-user") -> None:
        self.cluster = cluster
        self.token = token
        self.user = user
        self.store: dict[str, list[Doc]] = {}
        self.index: dict[str, dict[tuple[str, str], Doc]] = {}
        docs = {
            "namespaces": cluster.namespaces,
            "nodes": cluster.nodes,
            "services": cluster.services,
            "events": cluster.events,
            "endpointslices": cluster.endpointslices,
            "endpoints": _endpoints_from_slices(cluster.endpointslices),
            "networkpolicies": cluster.network_policies,
            "pods": cluster.pods,
            "ciliumnetworkpolicies": cluster.cilium_network_policies,
        }
        max_rv = 1
        for plural, items in docs.items():
            ordered = sorted(items, key=_storage_key)
            self.store[plural] = ordered
            self.index[plural] = {_storage_key(d): d for d in ordered}
            for d in ordered:
                rv = d.get("metadata", {}).get("resourceVersion", "")
                if rv.isdigit():
                    max_rv = max(max_rv, int(rv))
        self.resource_version = max_rv + 1

    # -- routing ---------------------------------------------------------------------------------

    def resolve(self, request: Request) -> Route:
        authenticated = request.bearer_token() == self.token
        if request.method != "GET":
            # A write attempt is recorded whether or not its token is good.
            if not authenticated:
                return Route("kube.write", _unauthorized, faultable=False, write=True)
            return Route("kube.write", lambda: status(405, "MethodNotAllowed", _METHOD_NOT_ALLOWED, {}), write=True)
        if not authenticated:
            return Route("kube.unauthorized", _unauthorized, faultable=False)
        parts = [p for p in request.path.split("/") if p]
        if parts == ["version"]:
            return Route("kube.version", self._version)
        if parts == ["api"]:
            return Route("kube.discovery", self._api_versions)
        if parts == ["apis"]:
            return Route("kube.discovery", self._api_groups)
        if parts == ["api", "v1"]:
            return Route("kube.discovery", lambda: self._resource_list("", "v1"))
        if len(parts) == 3 and parts[0] == "apis" and self._serves_group(parts[1], parts[2]):
            return Route("kube.discovery", lambda: self._resource_list(parts[1], parts[2]))
        if parts[:1] == ["openapi"]:
            return Route("kube.openapi", lambda: self._openapi(parts))
        if parts in (["healthz"], ["livez"], ["readyz"]):
            return Route("kube.health", lambda: Response(200, b"ok", (("Content-Type", "text/plain"),)))
        target = self._parse_resource_path(parts)
        if target is None:
            return Route("kube.notfound", self._not_found_page)
        resource, namespace, name = target
        route = f"kube.{resource.plural}.{'get' if name else 'list'}"
        if resource.plural in self.cluster.kube_forbidden:
            return Route(route, lambda: self._forbidden(resource, namespace, "get" if name else "list", name))
        if name:
            return Route(route, lambda: self._as_table(request, resource, self._get(resource, namespace, name)))
        return Route(route, lambda: self._as_table(request, resource, self._list(request, resource, namespace)))

    def _parse_resource_path(self, parts: list[str]) -> tuple[Resource, str | None, str | None] | None:
        if parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if not rest or len(rest) > 2:
            if namespace is not None and not rest:
                # /api/v1/namespaces/NAME is a GET of that namespace.
                ns_res = _BY_PATH.get(("", "v1", "namespaces"))
                if group == "" and ns_res is not None:
                    return ns_res, None, namespace
            return None
        resource = _BY_PATH.get((group, version, rest[0]))
        if resource is None or (resource.group == "cilium.io" and not self.cluster.cilium_crd):
            return None  # a CRD that is not installed is not served
        name = rest[1] if len(rest) == 2 else None
        if namespace is not None and not resource.namespaced:
            return None
        if not resource.namespaced and name is None and namespace is None:
            return resource, None, None
        if resource.namespaced and name is not None and namespace is None:
            return None  # /api/v1/services/NAME does not exist
        return resource, namespace, name

    # -- handlers --------------------------------------------------------------------------------

    def _version(self) -> Response:
        git = self.cluster.kubernetes_version
        major, minor, *_ = git.lstrip("v").split(".") + ["0", "0"]
        return json_response(
            200,
            {
                "major": major,
                "minor": minor,
                "gitVersion": git,
                "gitCommit": "0" * 40,
                "gitTreeState": "clean",
                "buildDate": "2024-04-15T12:00:00Z",
                "goVersion": "go1.22.2",
                "compiler": "gc",
                "platform": "linux/amd64",
            },
        )

    def _api_versions(self) -> Response:
        return json_response(
            200,
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:443"}],
            },
        )

    def _served(self) -> list[Resource]:
        return [r for r in RESOURCES if r.group != "cilium.io" or self.cluster.cilium_crd]

    def _api_groups(self) -> Response:
        served = {r.group: r.version for r in self._served() if r.group}
        groups = sorted(served)
        return json_response(
            200,
            {
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": [
                    {
                        "name": g,
                        "versions": [{"groupVersion": f"{g}/{served[g]}", "version": served[g]}],
                        "preferredVersion": {"groupVersion": f"{g}/{served[g]}", "version": served[g]},
                    }
                    for g in groups
                ],
            },
        )

    def _serves_group(self, group: str, version: str) -> bool:
        return any(
            r.group == group and r.version == version and (r.group != "cilium.io" or self.cluster.cilium_crd)
            for r in RESOURCES
            if r.group
        )

    def _resource_list(self, group: str, version: str) -> Response:
        """``APIResourceList`` of one group version: what kubectl's discovery maps names through."""
        resources = []
        for r in RESOURCES:
            if r.group != group or r.version != version:
                continue
            singular, short, categories = _DISCOVERY.get(r.plural, (r.kind.lower(), (), ()))
            entry: Doc = {
                "name": r.plural,
                "singularName": singular,
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": list(_VERBS),
            }
            if short:
                entry["shortNames"] = list(short)
            if categories:
                entry["categories"] = list(categories)
            resources.append(entry)
        group_version = f"{group}/{version}" if group else version
        return json_response(
            200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}
        )

    def _openapi(self, parts: list[str]) -> Response:
        """OpenAPI v3 discovery: the index of group versions (``kubectl explain`` and client-side
        validation read it); a group version's document lists the kinds it serves. OpenAPI v2 is not
        served (404), as on API servers that dropped it: kubectl then uses v3."""
        if parts == ["openapi", "v3"]:
            paths = {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=lab"}}
            for r in RESOURCES:
                if r.group and self._serves_group(r.group, r.version):
                    key = f"apis/{r.group}/{r.version}"
                    paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash=lab"}
            return json_response(200, {"paths": paths})
        if len(parts) >= 3 and parts[:2] == ["openapi", "v3"]:
            rest = parts[2:]
            if rest == ["api", "v1"]:
                group, version = "", "v1"
            elif len(rest) == 3 and rest[0] == "apis" and self._serves_group(rest[1], rest[2]):
                group, version = rest[1], rest[2]
            else:
                return self._not_found_page()
            return json_response(200, _openapi_document(group, version))
        return self._not_found_page()

    def _as_table(self, request: Request, resource: Resource, response: Response) -> Response:
        """The response as a ``Table`` when the client asked for one (kubectl get), else as it is."""
        from akslbctl.lab.kubetables import table, wants_table

        if response.status != 200 or not wants_table(request.headers.get("accept", "")):
            return response
        doc = json.loads(response.body)
        if doc.get("kind", "").endswith("List") and "items" in doc:
            items, meta = doc["items"], doc.get("metadata", {})
        else:
            items, meta = [doc], {"resourceVersion": doc.get("metadata", {}).get("resourceVersion", "")}
        include = request.param("includeObject") or "Metadata"
        return json_response(200, table(resource.plural, items, meta, include_object=include))

    def _not_found_page(self) -> Response:
        return status(404, "NotFound", "the server could not find the requested resource", {})

    def _forbidden(self, resource: Resource, namespace: str | None, verb: str, name: str | None) -> Response:
        what = f'"{name}" ' if name else ""
        where = f' in the namespace "{namespace}"' if namespace else (" at the cluster scope")
        message = (
            f'{resource.qualified} {what}is forbidden: User "{self.user}" cannot {verb} resource '
            f'"{resource.plural}" in API group "{resource.group}"{where}'
        )
        details: Doc = {"kind": resource.plural}
        if name:
            details = {
                "name": name,
                **({"group": resource.group} if resource.group else {}),
                "kind": resource.plural,
            }
        elif resource.group:
            details = {"group": resource.group, "kind": resource.plural}
        return status(403, "Forbidden", message, details)

    def _get(self, resource: Resource, namespace: str | None, name: str) -> Response:
        doc = self.index[resource.plural].get((namespace or "", name))
        if doc is None:
            details: Doc = {"name": name}
            if resource.group:
                details["group"] = resource.group
            details["kind"] = resource.plural
            return status(404, "NotFound", f'{resource.qualified} "{name}" not found', details)
        return json_response(200, doc)

    def _list(self, request: Request, resource: Resource, namespace: str | None) -> Response:
        if request.param("watch") in ("true", "1"):
            return status(405, "MethodNotAllowed", "the lab API server does not serve watches", {})
        try:
            labels = request.param("labelSelector") or ""
            fields = request.param("fieldSelector") or ""
            label_ok = parse_label_selector(labels) if labels else None
            field_ok = parse_field_selector(fields, resource) if fields else None
        except SelectorError as exc:
            return status(400, "BadRequest", str(exc))
        limit_text = request.param("limit") or "0"
        try:
            limit = int(limit_text)
        except ValueError:
            return status(400, "BadRequest", f'strconv.ParseInt: parsing "{limit_text}": invalid syntax')
        rv = self.resource_version
        start_after = None
        token = request.param("continue")
        if token:
            try:
                rv, start_after = _decode_continue(token)
            except ValueError as exc:
                return status(400, "BadRequest", str(exc))

        def candidates() -> Iterable[tuple[str, Doc]]:
            for doc in self.store[resource.plural]:
                key = _key_string(doc)
                if namespace is not None and doc["metadata"].get("namespace") != namespace:
                    continue
                if start_after is not None and key <= start_after:
                    continue
                if label_ok is not None and not label_ok(doc["metadata"].get("labels") or {}):
                    continue
                if field_ok is not None and not field_ok(doc):
                    continue
                yield key, doc

        items: list[Doc] = []
        last_key = ""
        cont = None
        remaining = 0
        it = iter(candidates())
        for key, doc in it:
            if limit > 0 and len(items) == limit:
                cont = _encode_continue(rv, last_key)
                remaining = 1 + sum(1 for _ in it)
                break
            items.append(_list_item(doc))
            last_key = key
        meta: Doc = {"resourceVersion": str(rv)}
        if cont:
            meta["continue"] = cont
            if not labels and not fields:
                # The API server only knows the remaining count when it did not filter.
                meta["remainingItemCount"] = remaining
        return json_response(
            200,
            {
                "kind": f"{resource.kind}List",
                "apiVersion": resource.api_version,
                "metadata": meta,
                "items": items,
            },
        )


def _endpoints_from_slices(slices: Iterable[Doc]) -> list[Doc]:
    """One v1 ``Endpoints`` per Service, from the Service's EndpointSlices (label
    ``kubernetes.io/service-name``): ready addresses, not-ready ones, and the ports."""
    by_service: dict[tuple[str, str], Doc] = {}
    for sl in slices:
        try:
            _mirror_slice(sl, by_service)
        except (AttributeError, TypeError, ValueError):
            continue  # a malformed slice (fault scenarios serve them on purpose) has no mirror
    return list(by_service.values())


def _mirror_slice(sl: Doc, by_service: dict[tuple[str, str], Doc]) -> None:
    """Add one slice's endpoints to the ``Endpoints`` of its Service."""
    meta = sl.get("metadata") or {}
    service = (meta.get("labels") or {}).get("kubernetes.io/service-name")
    if not service:
        return
    key = (meta.get("namespace", ""), service)
    doc = by_service.setdefault(
        key,
        {
            "kind": "Endpoints",
            "apiVersion": "v1",
            "metadata": {
                "name": service,
                "namespace": key[0],
                "creationTimestamp": meta.get("creationTimestamp"),
                "resourceVersion": meta.get("resourceVersion", "1"),
            },
            "subsets": [],
        },
    )
    ready, not_ready = [], []
    for ep in sl.get("endpoints") or []:
        conditions = ep.get("conditions") or {}
        for ip in ep.get("addresses") or []:
            address: Doc = {"ip": ip}
            if ep.get("nodeName"):
                address["nodeName"] = ep["nodeName"]
            if ep.get("targetRef"):
                address["targetRef"] = ep["targetRef"]
            (ready if conditions.get("ready", True) is not False else not_ready).append(address)
    ports = [{k: p[k] for k in ("name", "port", "protocol") if p.get(k) is not None} for p in sl.get("ports") or []]
    if ready or not_ready:
        subset: Doc = {"ports": ports}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        doc["subsets"].append(subset)


def _openapi_document(group: str, version: str) -> Doc:
    """A minimal OpenAPI v3 document for one group version: each served kind as an object schema
    carrying its ``x-kubernetes-group-version-kind``, which is what kubectl looks kinds up by."""
    schemas: Doc = {}
    paths: Doc = {}
    for r in RESOURCES:
        if r.group == group and r.version == version:
            prefix = f"io.k8s.api.{group.split('.')[0] or 'core'}.{version}"
            base = f"/apis/{group}/{version}" if group else f"/api/{version}"
            scope = "/namespaces/{namespace}" if r.namespaced else ""
            gvk = {"group": group, "version": version, "kind": r.kind}
            paths[f"{base}{scope}/{r.plural}/{{name}}"] = {
                "get": {
                    "operationId": f"read{r.kind}",
                    "x-kubernetes-action": "get",
                    "x-kubernetes-group-version-kind": gvk,
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {
                                "application/json": {"schema": {"$ref": f"#/components/schemas/{prefix}.{r.kind}"}}
                            },
                        }
                    },
                }
            }
            schemas[f"{prefix}.{r.kind}"] = {
                "description": f"{r.kind} as the lab serves it (read-only).",
                "type": "object",
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"type": "object"},
                    "spec": {"type": "object"},
                    "status": {"type": "object"},
                },
                "x-kubernetes-group-version-kind": [{"group": group, "version": version, "kind": r.kind}],
            }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "lab"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _unauthorized() -> Response:
    return status(401, "Unauthorized", "Unauthorized")


def _storage_key(doc: Doc) -> tuple[str, str]:
    meta = doc.get("metadata", {})
    return meta.get("namespace", ""), meta.get("name", "")


def _key_string(doc: Doc) -> str:
    ns, name = _storage_key(doc)
    return f"{ns}/{name}" if ns else name


def _list_item(doc: Doc) -> Doc:
    """List items carry no ``kind``/``apiVersion``: the list's own fields name them."""
    return {k: v for k, v in doc.items() if k not in ("kind", "apiVersion")}
