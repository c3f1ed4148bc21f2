"""Gather the evidence for one Service from a live cluster: Kubernetes first, then ARM.

This is I/O orchestration only: sources fetch raw documents, the normaliser turns them into the model,
and the result is a :class:`~akslbctl.model.case.Case` that analysis reads exactly as it reads a case
file. Independent requests run concurrently in threads (both clients are synchronous).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any

from akslbctl.analysis.names import owns, service_prefix, uid_problem
from akslbctl.errors import DeadlineExceeded, EvidenceError, Forbidden, MalformedAnswer, UsageError
from akslbctl.logs import DebugLog
from akslbctl.model.case import Case, RawDocuments
from akslbctl.model.kube import EXCLUDE_LB_LABEL, Node, Service
from akslbctl.records import record
from akslbctl.sources import normalize

if TYPE_CHECKING:  # the live path's own types; a case file is read without loading them
    from concurrent.futures import ThreadPoolExecutor

    from akslbctl.sources.arm import ArmOptions
    from akslbctl.sources.kube import KubeOptions

log = DebugLog("akslbctl.collect")


@record(frozen=True)
class Target:
    namespace: str | None
    name: str


def check_manageable(service: Service) -> None:
    """Only Services the Azure cloud provider manages can be diagnosed (contract §4, exit 2)."""
    if service.type != "LoadBalancer":
        raise UsageError(
            f"service {service.ref} is of type {service.type}, not LoadBalancer: no Azure load balancer serves it",
        )
    if service.load_balancer_class:
        raise UsageError(
            f"service {service.ref} has loadBalancerClass {service.load_balancer_class}: it is not managed by "
            "the Azure cloud provider",
        )
    problem = uid_problem(service.uid)
    if problem is not None:
        raise UsageError(
            f"service {service.ref} {problem}: it looks like a manifest, not what the Kubernetes API returns, and "
            "the provider names the Service's load balancer objects after that UID",
            hint=f"use the Service as the cluster has it: kubectl get svc {service.name} -n {service.namespace} "
            "-o json, or akslbctl capture",
        )


def collect(
    target: Target,
    kube_opts: KubeOptions,
    arm_opts: ArmOptions,
    *,
    secrets: list[str] | None = None,
    keep_node_documents: bool = True,
    on_partial: Callable[[Case], None] | None = None,
    load_prober: bool = True,
    kube: Any = None,
    worker: Any = None,
) -> Case:
    """The evidence for one Service. ``keep_node_documents`` False leaves the Nodes' raw documents out
    of ``case.raw`` (the normalised Nodes are kept): only a case file needs them.

    ``on_partial`` is called, on the collecting thread, with a partial Case as soon as the Service, the
    Nodes and the resource group's LBs and PIPs are in — enough to plan the probes (explain starts
    them then) — while the NICs, the network path, EndpointSlices, Events and pods are still read.
    It is not called when the LBs could not be read. Whatever it does, the Case returned is built
    from all the evidence, as without it. ``load_prober`` False: the prober's modules are not loaded
    with the analysis's (the round runs in a worker process that has its own).

    ``kube``: the :class:`~akslbctl.sources.kube.KubeSource` to read with (default: one for
    ``kube_opts``). ``worker``: an :class:`akslbctl.worker.Worker` forked with it, which lists the
    Nodes meanwhile (unless their documents are kept); when it cannot, they are read here."""
    from akslbctl.sources.kube import KubeSource

    if kube is None:
        kube = KubeSource(kube_opts)
    if secrets is not None:  # once each (a caller that loaded the kubeconfig ahead may have them already)
        secrets.extend(s for s in kube_secrets(kube) if s not in secrets)
    namespace = target.namespace or kube.namespace
    try:
        svc_doc = kube.service(namespace, target.name)
        service = _normalised(normalize.service, svc_doc, f"Service {namespace}/{target.name}")
        check_manageable(service)
        with _workers(8) as pool:
            # Load the Azure SDK while the Kubernetes answers travel, and read ARM as soon as the
            # Nodes say where (subscription, node resource group): the rest of Kubernetes — slices,
            # events, pods, policies — arrives meanwhile.
            warm = pool.submit(_import_arm)
            analysis = pool.submit(_import_analysis, load_prober)
            first = _FirstNode()
            ownership = ownership_of([service])
            nodes_f = pool.submit(_nodes, kube, worker if not keep_node_documents else None, ownership, first.seen)
            nodes_f.add_done_callback(first.done)
            slices_f = pool.submit(_unless_forbidden, kube.endpoint_slices, namespace, service.name)
            version_f = pool.submit(_version, kube)
            events_f = pool.submit(_optional, kube.events, namespace, service.name, service.uid or None)
            inside_f = pool.submit(_inside, kube, service)
            # ARM as soon as the first Node says where (subscription, node resource group): the LBs,
            # PIPs and pool members' NICs travel with the rest of the Nodes list.
            early = first.scope(ownership, arm_opts)
            nodes_in = _Pending()
            arm_f, nodes, lbs_in = None, None, _Answered()
            try:
                if early is not None:
                    warm.result()
                    arm_f = pool.submit(
                        _collect_arm, [service], *early, arm_opts, secrets, nodes=nodes_in.result, answered=lbs_in.put
                    )
                node_docs, normalised = nodes_f.result()
                node_raw = tuple(node_docs) if keep_node_documents else ()
                # No import on two threads at once from here on (the analysis is loaded before the code
                # below may import a piece of it).
                analysis.result()
                if normalised is not None:  # the worker's: the same Nodes, the same notes
                    nodes, notes = normalised
                    ownership.notes.extend(notes)
                else:
                    nodes = tuple(_each(normalize.node, node_docs, "Node", ownership))
                del node_docs, nodes_f  # freed now unless kept: the decoded documents are the bulk of the memory
                subscription, resource_group = azure_scope(nodes, arm_opts)
            finally:
                nodes_in.settle(nodes)
            if arm_f is None or early != (subscription, resource_group):
                # The first Node named another scope than the whole list decides (it had no providerID):
                # read ARM again, from the right place.
                warm.result()
                scope, lbs_in = (subscription, resource_group), _Answered()
                arm_f = pool.submit(
                    _collect_arm, [service], *scope, arm_opts, secrets, nodes=nodes, answered=lbs_in.put
                )
            partial = None
            if on_partial is not None:
                arm_f.add_done_callback(lbs_in.ended)
                partial = _partial_case(lbs_in.wait(), svc_doc, service, nodes, subscription, resource_group, ownership)
                if partial is not None:
                    on_partial(partial)
            slice_docs, version = slices_f.result(), version_f.result()
            event_docs, events_note = events_f.result()
            pod_docs, policy_docs, inside_notes = inside_f.result()
            observed = now()
            # The server may have ignored the label selector: only the Service's own slices, and those strictly.
            slices_note = None
            if isinstance(slice_docs, Forbidden):  # RBAC without EndpointSlices: endpoints unknown, not none
                slices_note, slice_docs = slice_docs.message, None
            slices_notes = [f"cannot read the Service's EndpointSlices ({slices_note})"] if slices_note else []
            slice_docs = [d for d in slice_docs or () if normalize.slice_of(d, service.namespace, service.name)]
            if event_docs is not None:  # the same for a field selector the server ignored
                event_docs = [d for d in event_docs if normalize.event_about(d, service.namespace, service.name)]
            endpoints = tuple(ep for eps in _each(normalize.endpoints, slice_docs, "EndpointSlice", None) for ep in eps)
            arm_docs = arm_f.result()
    finally:
        kube.close()
    raw = arm_docs.raw(
        service=svc_doc,
        nodes=node_raw,
        endpoint_slices=tuple(slice_docs),
        endpoints_read=slices_note is None,
        version=version if isinstance(version, dict) else None,
        events=None if event_docs is None else tuple(event_docs),
        pods=None if pod_docs is None else tuple(pod_docs),
        network_policies=None if policy_docs is None else tuple(policy_docs),
        workload_notes=(*inside_notes, *slices_notes),
    )
    # The LBs the partial case normalised are these same documents: not normalised twice.
    same = partial is not None and lbs_in.lbs is arm_docs.load_balancers
    return case_from_raw(
        raw,
        subscription=subscription,
        resource_group=resource_group,
        service=service,
        nodes=nodes,
        endpoints=endpoints,
        load_balancers=partial.load_balancers if same else None,
        network_notes=tuple(arm_docs.notes),
        events_note=_events_note(events_note),
        observed_at=observed,
        ownership=ownership,
        parsed_nics=arm_docs.parsed_nics,
    )


def _nodes(kube, worker, ownership: normalize.Ownership, first: Callable[[Any], None]) -> tuple[list, Any]:
    """(documents, None) of the Nodes read here, or ([], (Nodes, notes)) as ``worker`` read them."""
    if worker is not None:
        got = worker.nodes(ownership.prefixes, ownership.ips, first)
        if got is not None:
            log.debug("%d Nodes read by worker process %d", len(got[0]), worker.pid)
            return [], got
        log.debug("worker process %d could not read the Nodes: reading them here", worker.pid)
    return kube.nodes(first), None


class _Answered:
    """The LB and PIP lists of one ARM read, as soon as they are in (or the read ended without them)."""

    def __init__(self) -> None:
        import threading

        self._in = threading.Event()
        self.lbs: list[dict[str, Any]] | None = None
        self.pips: list[dict[str, Any]] | None = None

    def put(self, lbs: list[dict[str, Any]], pips: list[dict[str, Any]]) -> None:
        self.lbs, self.pips = lbs, pips
        self._in.set()

    def ended(self, _future: Any) -> None:
        self._in.set()

    def wait(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
        self._in.wait()
        return None if self.lbs is None or self.pips is None else (self.lbs, self.pips)


def _partial_case(answered, svc_doc, service, nodes, subscription, resource_group, ownership) -> Case | None:
    """Service, Nodes, LBs and PIPs — no NICs, network path, endpoints, events or pods yet."""
    if answered is None:
        return None
    lb_docs, pip_docs = answered
    try:
        return case_from_raw(
            RawDocuments(service=svc_doc, load_balancers=tuple(lb_docs), public_ips=tuple(pip_docs)),
            subscription=subscription,
            resource_group=resource_group,
            service=service,
            nodes=nodes,
            endpoints=(),
            network_interfaces=(),
            path=((), (), (), ()),
            ownership=ownership,
        )
    except EvidenceError:  # a malformed LB of the Service's own: the whole case reports it, in its turn
        return None


class _FirstNode:
    """The first Node of the list, as soon as its first page is in: where ARM is (its providerID)."""

    def __init__(self) -> None:
        import threading

        self._in = threading.Event()
        self._doc: Any = None

    def seen(self, doc: Any) -> None:
        self._doc = doc
        self._in.set()

    def done(self, _future: Any) -> None:  # the list ended (or failed) without a first Node
        self._in.set()

    def scope(self, ownership: normalize.Ownership, arm_opts: ArmOptions) -> tuple[str, str] | None:
        """(subscription, resource group) as :func:`azure_scope` reads them from this Node; None when it
        cannot tell (the whole list then decides)."""
        try:
            return azure_scope((), arm_opts)  # both given by flags or environment: no Node needed
        except EvidenceError:
            pass
        self._in.wait()
        try:
            return azure_scope([normalize.node(self._doc, ownership)], arm_opts) if self._doc is not None else None
        except Exception:  # a malformed first Node: the whole list's reading reports it
            return None


class _Pending:
    """The normalised Nodes, for an ARM read started before they were in."""

    def __init__(self) -> None:
        import threading

        self._in = threading.Event()
        self._nodes: Sequence[Node] | None = None

    def settle(self, nodes: Sequence[Node] | None) -> None:
        self._nodes = nodes
        self._in.set()

    def result(self) -> Sequence[Node]:
        self._in.wait()
        if self._nodes is None:
            raise EvidenceError("the Nodes could not be read")  # the reader reports why; this is discarded
        return self._nodes


def ownership_of(services: Sequence[Service]) -> normalize.Ownership:
    """What is the Services' own (strictly parsed) among the documents read: objects named with one of
    their prefixes or carrying one of their IPs (normalize.Ownership)."""
    from akslbctl.analysis import annotations as ann

    ips = [ip for s in services for ip in (*s.ingress_ips, *ann.pinned_ips(s))]
    return normalize.Ownership([service_prefix(s.uid) for s in services], ips)


def _each(fn, docs, what: str, ownership: normalize.Ownership | None, /, **kw) -> list:
    """``normalize.each`` with the API's error for the Service's own malformed documents."""
    try:
        return normalize.each(fn, docs, what, ownership, **kw)
    except normalize.ShapeError as exc:
        raise MalformedAnswer(f"unexpected document from the API: {exc}") from None


def now() -> str:
    """The time the evidence was read, RFC 3339 UTC (event ages count from it)."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _events_note(note: str | None) -> str | None:
    return f"cannot read the Service's events ({note})" if note else None


def collect_many(
    kube_opts: KubeOptions,
    arm_opts: ArmOptions,
    *,
    all_namespaces: bool = False,
    selector: str | None = None,
    secrets: list[str] | None = None,
) -> list[Case]:
    """The evidence for every diagnosable LoadBalancer Service of the namespace (or of all namespaces).

    ``explain -A`` / ``-l``: one Nodes list, one /version and one listing of the resource group's LBs
    and PIPs serve every Service (a cluster's Services share them); only EndpointSlices are per Service.
    ``selector`` is a Kubernetes label selector, applied by the API server. Services of another type or
    with a loadBalancerClass are left out (the Azure cloud provider does not manage them).
    """
    from akslbctl.sources.kube import KubeSource

    kube = KubeSource(kube_opts)
    if secrets is not None:
        secrets.extend(kube_secrets(kube))
    try:
        svc_docs = kube.services(None if all_namespaces else kube.namespace, selector)
        picked = []
        for i, doc in enumerate(svc_docs):
            service = _normalised(normalize.service, doc, f"Service #{i}")
            if service.type == "LoadBalancer" and not service.load_balancer_class:
                picked.append((doc, service))
        if not picked:
            return []
        with _workers(4) as pool:
            warm = pool.submit(_import_arm)
            nodes_f = pool.submit(kube.nodes)
            version_f = pool.submit(_version, kube)
            slices_f = [pool.submit(_unless_forbidden, kube.endpoint_slices, s.namespace, s.name) for _, s in picked]
            events_f = [pool.submit(_optional, kube.events, s.namespace, s.name, s.uid or None) for _, s in picked]
            # pods and NetworkPolicies as for one Service: -A tells each Service's story as explain does
            inside_f = [pool.submit(_inside, kube, s) for _, s in picked]
            node_docs, version = nodes_f.result(), version_f.result()
            slice_docs = [f.result() for f in slices_f]
            event_answers = [f.result() for f in events_f]
            inside_answers = [f.result() for f in inside_f]
            warm.result()
    finally:
        kube.close()
    observed = now()
    services = [s for _, s in picked]
    ownership = ownership_of(services)
    nodes = tuple(_each(normalize.node, node_docs, "Node", ownership))
    subscription, resource_group = azure_scope(nodes, arm_opts)
    arm_docs = _collect_arm(services, subscription, resource_group, arm_opts, secrets, nodes=nodes)
    lbs = tuple(_each(normalize.load_balancer, arm_docs.load_balancers, "LoadBalancer", ownership, ownership=ownership))
    pips = tuple(_each(normalize.public_ip, arm_docs.public_ips, "PublicIPAddress", ownership))
    nics = tuple(_each(_reusing(arm_docs.parsed_nics), arm_docs.network_interfaces, "NetworkInterface", ownership))
    path = _path_objects(arm_docs.raw(service={}), ownership)
    cases = []
    answers = zip(picked, slice_docs, event_answers, inside_answers, strict=True)
    for (svc_doc, service), slices, (event_docs, events_note), (pod_docs, policy_docs, inside_notes) in answers:
        refused = slices.message if isinstance(slices, Forbidden) else None
        slices = [d for d in (() if refused else slices) if normalize.slice_of(d, service.namespace, service.name)]
        if event_docs is not None:
            event_docs = [d for d in event_docs if normalize.event_about(d, service.namespace, service.name)]
        raw = arm_docs.raw(
            service=svc_doc,
            nodes=tuple(node_docs),
            endpoint_slices=tuple(slices),
            endpoints_read=refused is None,
            version=version if isinstance(version, dict) else None,
            events=None if event_docs is None else tuple(event_docs),
            pods=None if pod_docs is None else tuple(pod_docs),
            network_policies=None if policy_docs is None else tuple(policy_docs),
            workload_notes=(
                *inside_notes,
                *((f"cannot read the Service's EndpointSlices ({refused})",) if refused else ()),
            ),
        )
        cases.append(
            case_from_raw(
                raw,
                subscription=subscription,
                resource_group=resource_group,
                service=service,
                nodes=nodes,
                load_balancers=lbs,
                public_ips=pips,
                network_interfaces=nics,
                path=path,
                network_notes=tuple(arm_docs.notes),
                events_note=_events_note(events_note),
                observed_at=observed,
                ownership=ownership,
            )
        )
    return cases


def case_from_raw(
    raw: RawDocuments,
    *,
    subscription: str | None,
    resource_group: str | None,
    service: Service | None = None,
    nodes=None,
    endpoints=None,
    load_balancers=None,
    public_ips=None,
    network_interfaces=None,
    recorded=None,
    path=None,
    network_notes: tuple[str, ...] = (),
    recorded_azure=None,
    recorded_source: str | None = None,
    recorded_notes: tuple[str, ...] = (),
    events_note: str | None = None,
    observed_at: str | None = None,
    ownership: normalize.Ownership | None = None,
    parsed_nics: Mapping[int, tuple[Any, Any]] | None = None,
) -> Case:
    """Normalise raw documents into a Case (the same path for live evidence and case files).

    Callers that already normalised some pieces (to name their own source in errors) pass them in;
    ``parsed_nics`` (:attr:`ArmDocuments.parsed_nics`) are NICs already normalised, taken as they are
    for the same documents (a NIC that did not parse then is read again, to say why).
    Strict for the Service's own objects, lenient (skipped with a note) for the others: ``ownership``
    says which are which and collects the notes (default: the Service's).
    """
    if service is None:
        service = _normalised(normalize.service, raw.service, "Service")
    own = ownership if ownership is not None else ownership_of([service])
    if nodes is None:
        nodes = tuple(_each(normalize.node, raw.nodes, "Node", own))
    if endpoints is None:
        slices = _each(normalize.endpoints, raw.endpoint_slices, "EndpointSlice", None)  # the Service's own: strict
        endpoints = tuple(ep for eps in slices for ep in eps)
    if load_balancers is None:
        load_balancers = _each(normalize.load_balancer, raw.load_balancers, "LoadBalancer", own, ownership=own)
    if public_ips is None:
        public_ips = _each(normalize.public_ip, raw.public_ips, "PublicIPAddress", own)
    if network_interfaces is None:
        network_interfaces = _each(_reusing(parsed_nics), raw.network_interfaces, "NetworkInterface", own)
    lbs, pips, nics = tuple(load_balancers), tuple(public_ips), tuple(network_interfaces)
    groups, vnets, subnets, links = path if path is not None else _path_objects(raw, own)
    version = raw.version.get("gitVersion") if isinstance(raw.version, dict) else None
    events = None
    if raw.events is not None:
        from akslbctl.analysis.events import newest_first

        events = tuple(newest_first(_each(normalize.event, raw.events, "Event", own)))
    vm_states = tuple(_each(normalize.vm_state, raw.instance_views, "InstanceView", own))
    pods, policies = _workload_objects(raw, own)
    return Case(
        events=events,
        events_note=events_note,
        vm_states=vm_states,
        observed_at=observed_at,
        pods=pods,
        network_policies=policies,
        workload_read=raw.pods is not None or raw.network_policies is not None,
        workload_notes=tuple(raw.workload_notes),
        endpoints_known=raw.endpoints_read,
        security_groups=groups,
        virtual_networks=vnets,
        subnets=subnets,
        private_link_services=links,
        network_notes=tuple(network_notes),
        recorded_azure=recorded_azure,
        recorded_source=recorded_source,
        recorded_notes=tuple(recorded_notes),
        service=service,
        nodes=_unique_by_name(nodes),
        endpoints=endpoints,
        load_balancers=lbs,
        public_ips=pips,
        network_interfaces=nics,
        server_version=version if isinstance(version, str) else None,
        subscription=subscription,
        resource_group=resource_group,
        recorded_probes=recorded,
        parse_notes=tuple(dict.fromkeys(own.notes)),
        raw=raw,
    )


def _reusing(parsed: Mapping[int, tuple[Any, Any]] | None):
    """``normalize.network_interface``, answering from ``parsed`` for a document it holds."""
    if not parsed:
        return normalize.network_interface

    def network_interface(doc: Any, path: str):
        hit = parsed.get(id(doc))
        if hit is not None and hit[0] is doc:
            return hit[1]
        return normalize.network_interface(doc, path)

    return network_interface


def _inside(kube, service):
    from akslbctl.sources.workload import read_workload

    return read_workload(kube, service)


def _workload_objects(raw: RawDocuments, own: normalize.Ownership | None = None) -> tuple[tuple, tuple]:
    """The pods and NetworkPolicies of the raw documents, normalised (issue 12). The pods are the
    Service's own (read by its selector): strict; a namespace's policy that does not parse is skipped."""
    from akslbctl.sources import workload

    pods = tuple(_each(workload.pod, raw.pods or (), "Pod", None))
    policies = tuple(_each(workload.network_policy, raw.network_policies or (), "NetworkPolicy", own))
    return pods, policies


def _path_objects(raw: RawDocuments, own: normalize.Ownership | None = None) -> tuple[tuple, tuple, tuple, tuple]:
    """NSGs, VNets, subnets and Private Link Services of the raw documents, normalised; one that does
    not parse is skipped with a note unless it names the Service (optional evidence, contract §5.1)."""
    return (
        tuple(_each(normalize.security_group, raw.security_groups, "NetworkSecurityGroup", own)),
        tuple(_each(normalize.virtual_network, raw.virtual_networks, "VirtualNetwork", own)),
        tuple(_each(normalize.subnet, raw.subnets, "Subnet", own)),
        tuple(_each(normalize.private_link_service, raw.private_link_services, "PrivateLinkService", own)),
    )


def kube_secrets(kube) -> list[str]:
    """Credential values of the kubeconfig in use, so that no output can ever echo them."""
    cfg = kube._api.configuration  # the client's own Configuration object
    out = []
    for value in (getattr(cfg, "api_key", None) or {}).values():
        if value:
            out.append(str(value).split(" ", 1)[-1])
    for attr in ("password",):
        value = getattr(cfg, attr, None)
        if value:
            out.append(str(value))
    return out


@contextlib.contextmanager
def _workers(n: int) -> Iterator[ThreadPoolExecutor]:
    """A thread pool that does not wait for its stragglers when the block fails.

    ``with ThreadPoolExecutor()`` joins every worker on the way out: an error (or Ctrl-C) while another
    request hangs on a server that never answers would surface only after that request's timeout.
    """
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="akslbctl-collect")
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _version(kube) -> dict[str, Any]:
    try:
        return kube.version()
    except EvidenceError as exc:  # /version may be forbidden; the rule set then defaults
        log.debug("no server version: %s", exc)
        return {}


def _import_analysis(prober: bool = True) -> None:
    """Load the analysis (and the prober, unless it runs elsewhere) while the answers travel."""
    import akslbctl.pipeline  # noqa: F401

    if prober:
        import akslbctl.probing.http  # noqa: F401
        import akslbctl.probing.runner  # noqa: F401


def _import_arm() -> None:
    """Load what the ARM reads need (azure-core's pipeline, its requests transport, azure-mgmt-core)
    while Kubernetes answers: the first ARM request is on the way to the probes."""
    import azure.core.rest  # noqa: F401
    import azure.mgmt.core  # noqa: F401
    from azure.core.pipeline.transport import RequestsTransport  # noqa: F401 - requests with it

    from akslbctl.sources.arm import _policies

    _policies()


@record
class ArmDocuments:
    """What ARM answered for the Services: LBs, PIPs, NICs and the network path in front of the nodes."""

    load_balancers: list[dict[str, Any]]
    public_ips: list[dict[str, Any]]
    network_interfaces: list[dict[str, Any]]
    security_groups: list[dict[str, Any]] = field(default_factory=list)
    virtual_networks: list[dict[str, Any]] = field(default_factory=list)
    subnets: list[dict[str, Any]] = field(default_factory=list)
    private_link_services: list[dict[str, Any]] = field(default_factory=list)
    instance_views: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The NICs the network path's reading normalised: id(document) -> (document, NetworkInterface).
    parsed_nics: dict[int, tuple[Any, Any]] = field(default_factory=dict)

    def raw(self, **kube: Any) -> RawDocuments:
        return RawDocuments(
            load_balancers=tuple(self.load_balancers),
            public_ips=tuple(self.public_ips),
            network_interfaces=tuple(self.network_interfaces),
            security_groups=tuple(self.security_groups),
            virtual_networks=tuple(self.virtual_networks),
            subnets=tuple(self.subnets),
            private_link_services=tuple(self.private_link_services),
            instance_views=tuple(self.instance_views),
            **kube,
        )


def _collect_arm(
    services: Sequence[Service],
    subscription: str,
    resource_group: str,
    arm_opts: ArmOptions,
    secrets: list[str] | None,
    *,
    nodes: Sequence[Node] | Callable[[], Sequence[Node]] = (),
    answered: Callable[[list[dict[str, Any]], list[dict[str, Any]]], None] | None = None,
) -> ArmDocuments:
    """LBs and PIPs of the resource group, the PIPs and NICs that the Services' objects name, the
    network path of their pool members (NSGs, subnets, VNets, Private Link Services), and for nodes the
    pools lack (or NotReady members) their scale set's NICs and their instance views (contract §5.2).
    ``answered`` is called with the LB and PIP lists of the resource group as soon as they are in.

    ``nodes`` may be a callable that waits for them: the reads that need no Node (the LBs, PIPs, the
    pool members' NICs) go out first, while the Nodes list is still on its way."""
    from akslbctl.analysis.match import vm_path
    from akslbctl.sources.arm import ArmSource, resolve_endpoint

    arm = ArmSource(
        subscription, resolve_endpoint(arm_opts.endpoint), timeout=arm_opts.timeout, deadline=arm_opts.deadline
    )
    if secrets is not None:
        secrets.extend(arm.secrets())
    try:
        with _workers(8) as pool:
            lbs_f = pool.submit(arm.load_balancers, resource_group)
            pips_f = pool.submit(arm.public_ips, resource_group)
            pls_f = pool.submit(_optional, arm.private_link_services, resource_group)
            lb_docs = lbs_f.result()
            pip_docs = pips_f.result()
            if answered is not None:
                answered(lb_docs, pip_docs)
            scratch = ownership_of(services)  # its notes come again, from case_from_raw
            lbs = _each(normalize.load_balancer, lb_docs, "LoadBalancer", scratch, ownership=scratch)
            prefixes = [service_prefix(s.uid) for s in services]

            def ours(name: str) -> bool:
                return any(owns(p, name) for p in prefixes)

            # PIPs of the Service's frontends that live in another resource group (annotation
            # azure-load-balancer-resource-group), and NICs of the pool members: one GET each for VMAS /
            # VMSS Flex, one list per scale set for VMSS instances.
            known_pips = {str(_doc_id(d)).lower() for d in pip_docs}
            extra_pips = {
                f.public_ip_id
                for lb in lbs
                for f in lb.frontends
                if f.public_ip_id and ours(f.name) and f.public_ip_id.lower() not in known_pips
            }
            nic_ids, scale_sets = set(), set()
            members: set[str | None] = set()
            for lb in lbs:
                pool_ids = [pid for r in lb.rules if ours(r.name) for pid in r.backend_pool_ids]
                for pid in pool_ids:
                    pool_obj = lb.pool_by_id(pid)
                    for m in pool_obj.members if pool_obj else ():
                        if not m.ipconfig_id:
                            continue
                        members.add(vm_path(m.ipconfig_id))
                        vmss = _scale_set_of(m.ipconfig_id)
                        if vmss is not None:
                            scale_sets.add(vmss)
                        else:
                            nic_ids.add(_nic_of(m.ipconfig_id))
            pip_futures = [pool.submit(arm.public_ip, pid) for pid in sorted(extra_pips)]
            # Optional evidence: a NIC we may not read (403) becomes a note, as the scale sets' lists do.
            nic_futures = [
                pool.submit(_optional, arm.network_interface, nid) for nid in sorted(n for n in nic_ids if n)
            ]
            listing = {ss: pool.submit(_optional, arm.vmss_network_interfaces, *ss) for ss in sorted(scale_sets)}
            gaps, asked = _nodes_to_ask(nodes() if callable(nodes) else nodes, members, scale_sets)
            for ss in sorted(asked):
                listing.setdefault(ss, pool.submit(_optional, arm.vmss_network_interfaces, *ss))
            vmss_futures = [listing[ss] for ss in sorted(listing)]
            pip_docs = list(pip_docs) + [d for d in (f.result() for f in pip_futures) if d]
            nic_docs, nic_notes = [], set()
            for f in nic_futures:
                doc, note = f.result()
                if doc:
                    nic_docs.append(doc)
                elif note:
                    nic_notes.add(note)
            docs = ArmDocuments(lb_docs, pip_docs, nic_docs)
            for note in sorted(nic_notes):
                docs.notes.append(f"cannot read network interfaces of pool members ({note})")
            for f in vmss_futures:
                listed, note = f.result()
                docs.network_interfaces.extend(listed or ())
                if note:
                    docs.notes.append(f"NSG path: cannot list the scale set's network interfaces ({note})")
            view_futures = [pool.submit(_optional, arm.instance_view, vm) for vm in gaps]
            refused = None
            for f in view_futures:
                view, note = f.result()
                if view:
                    docs.instance_views.append(view)
                refused = refused or note
            if refused:
                docs.notes.append(f"pool gaps: cannot read VM instance views ({refused})")
            listed, note = pls_f.result()
            docs.private_link_services = list(listed or ())
            if note:
                docs.notes.append(f"cannot list Private Link Services ({note})")
            _collect_path(arm, pool, docs)
    finally:
        arm.close()
    return docs


MAX_INSTANCE_VIEWS = 50  # one GET each: for the nodes a pool lacks and NotReady members, at most this many
MAX_EXTRA_SCALE_SETS = 20


def _nodes_to_ask(
    nodes: Sequence[Node], members: set[str | None], scale_sets: set[tuple[str, str]]
) -> tuple[list[str], set[tuple[str, str]]]:
    """VMs whose instance view explains a pool gap or a NotReady member, and the scale sets of missing
    nodes whose NICs are not being read yet (a NIC already in another LB's pool shows there)."""
    from akslbctl.analysis.match import vm_path

    views: list[str] = []
    extra: set[tuple[str, str]] = set()
    for n in sorted(nodes, key=lambda n: n.name):
        key = vm_path(n.provider_id) if n.provider_id else None
        if not key or EXCLUDE_LB_LABEL in n.labels:
            continue
        missing = key not in members
        if (missing or n.ready is not True) and len(views) < MAX_INSTANCE_VIEWS:
            views.append(n.provider_id.removeprefix("azure://"))
        if missing:
            vmss = _scale_set_of(n.provider_id)
            known = {v.lower() for _, v in scale_sets | extra}
            if vmss is not None and vmss[1].lower() not in known and len(extra) < MAX_EXTRA_SCALE_SETS:
                extra.add(vmss)
    return views, extra


def _collect_path(arm, pool: ThreadPoolExecutor, docs: ArmDocuments) -> None:
    """The subnets (through their VNets, else one by one) and NSGs in front of the NICs read.

    Optional evidence: a 403 or a missing object becomes a note (contract §5.1), never a failure.
    """
    parsed = docs.parsed_nics

    def remembered(doc: Any, path: str):
        nic = normalize.network_interface(doc, path)
        parsed[id(doc)] = (doc, nic)
        return nic

    # Leniently, with notes no one reads: the case's own reading of the NICs says what it skipped.
    nics = _each(remembered, docs.network_interfaces, "NetworkInterface", normalize.Ownership())
    subnet_ids = {sid for nic in nics for sid in nic.subnets.values() if sid}
    vnet_ids = sorted({_vnet_of(sid) for sid in subnet_ids})
    vnet_futures = {vid: pool.submit(_optional, arm.virtual_network, vid) for vid in vnet_ids}
    got_subnets: set[str] = set()
    nsg_ids = {nic.nsg_id for nic in nics if nic.nsg_id}
    for vid, f in vnet_futures.items():
        doc, note = f.result()
        if doc is None:
            if note:
                docs.notes.append(f"NSG path: cannot read virtual network {_last(vid)} ({note})")
            continue
        docs.virtual_networks.append(doc)
        try:
            vnet = normalize.virtual_network(doc, "ARM virtual network")
        except normalize.ShapeError as exc:  # optional evidence: the case's note says it once
            log.debug("virtual network skipped: %s", exc)
            continue
        for sub in vnet.subnets:
            got_subnets.add(sub.id.lower())
            if sub.nsg_id:
                nsg_ids.add(sub.nsg_id)
    missing = sorted(sid for sid in subnet_ids if sid.lower() not in got_subnets)
    for sid, f in [(sid, pool.submit(_optional, arm.subnet, sid)) for sid in missing]:
        doc, note = f.result()
        if doc is None:
            docs.notes.append(f"NSG path: cannot read subnet {_last(sid)} ({note or 'not found'})")
            continue
        docs.subnets.append(doc)
        try:
            sub = normalize.subnet(doc, "ARM subnet")
        except normalize.ShapeError as exc:
            log.debug("subnet skipped: %s", exc)
            continue
        if sub.nsg_id:
            nsg_ids.add(sub.nsg_id)
    unique = {n.lower(): n for n in nsg_ids}
    for nid, f in [(nid, pool.submit(_optional, arm.security_group, nid)) for nid in sorted(unique.values())]:
        doc, note = f.result()
        if doc is None:
            docs.notes.append(f"NSG path: cannot read network security group {_last(nid)} ({note or 'not found'})")
            continue
        docs.security_groups.append(doc)


def _unless_forbidden(fn, *args):
    """The answer, or the :class:`Forbidden` error itself (RBAC refuses this optional read)."""
    try:
        return fn(*args)
    except Forbidden as exc:
        return exc


def _optional(fn, *args):
    """(answer, None), or (None, one-line reason) when ARM will not give this optional evidence."""
    try:
        return fn(*args), None
    except DeadlineExceeded:
        raise
    except EvidenceError as exc:
        return None, exc.message


def _scale_set_of(ipconfig_id: str) -> tuple[str, str] | None:
    """(resource group, scale set) of a VMSS instance's ipConfiguration id; None for other members."""
    parts = [p for p in ipconfig_id.split("/") if p]
    low = [p.lower() for p in parts]
    if "virtualmachinescalesets" not in low or "resourcegroups" not in low:
        return None
    i, g = low.index("virtualmachinescalesets"), low.index("resourcegroups")
    if i + 1 >= len(parts) or g + 1 >= len(parts) or "virtualmachines" not in low[i:]:
        return None
    return parts[g + 1], parts[i + 1]


def _vnet_of(subnet_id: str) -> str:
    low = subnet_id.lower()
    i = low.find("/subnets/")
    return subnet_id[:i] if i > 0 else subnet_id


def _last(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def _nic_of(ipconfig_id: str) -> str | None:
    low = ipconfig_id.lower()
    i = low.find("/ipconfigurations/")
    return ipconfig_id[:i] if i > 0 else None


def _doc_id(doc: Any) -> str:
    return doc.get("id", "") if isinstance(doc, dict) else ""


def _normalised(fn, doc, where: str):
    try:
        return fn(doc, where)
    except normalize.ShapeError as exc:
        raise MalformedAnswer(f"unexpected document from the API: {exc}") from None


def _unique_by_name(nodes) -> tuple:
    """One Node per name: a list that repeats a Node (merged dumps, a replayed page) must not count it twice."""
    seen: dict[str, object] = {}
    for n in nodes:
        seen[n.name] = n
    return tuple(seen.values())


def azure_scope(nodes, arm_opts: ArmOptions) -> tuple[str, str]:
    """Subscription and node resource group: the flags, else AZURE_SUBSCRIPTION_ID, else a providerID."""
    from akslbctl.analysis.match import node_resource_group

    sub_from_nodes, rg_from_nodes = node_resource_group(nodes)
    subscription = arm_opts.subscription or os.environ.get("AZURE_SUBSCRIPTION_ID") or sub_from_nodes
    resource_group = arm_opts.resource_group or rg_from_nodes
    if not subscription or not resource_group:
        raise EvidenceError(
            "cannot tell the Azure subscription and node resource group: no Node has an Azure providerID",
            hint="pass --subscription and -g (the MC_… resource group)",
        )
    return subscription, resource_group
