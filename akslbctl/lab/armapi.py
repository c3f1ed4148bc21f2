"""The lab's Azure Resource Manager: Microsoft.Network reads and the rule-health operation.

Reads: load balancers (and their children), public IPs, NICs (standalone and per VMSS instance),
virtual networks with their subnets and peerings, network security groups with their rules and
default rules, and Private Link Services — each in whichever resource group its id names (a BYO VNet
lives outside the node resource group). ``LabCluster.arm_forbidden`` turns reads into 403
AuthorizationFailed: everything (``"*"``), one kind (``"lb"``, ``"pip"``, ``"nic"``, ``"vnet"``,
``"subnet"``, ``"nsg"``, ``"pls"``), the rule-health action (``"rule-health"``) or one resource group
(``"rg:<name>"``).

Answers the real ``azure-mgmt-network`` client at ARM's paths with REST-shaped documents (camelCase,
nested ``properties``, full ids), matching paths case-insensitively as ARM does. Errors carry ARM's
``{"error": {"code", "message"}}`` body and status. The rule-health long-running operation
(probe-semantics.md §5.1) answers 202 + ``Location`` and then, after a configurable number of 202
polls, 200 with ``LoadBalancerHealthPerRule``.

Azure's verdict per backend is derived from what the member's address answers on the probe port —
the same behaviour table the node listeners serve — unless the scenario overrides it (an NSG that
blocks 168.63.129.16 makes Azure say Down while the node answers akslbctl).

Every non-GET request other than the rule-health POST is refused with 405 and recorded as a write.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from akslbctl.lab.behaviours import (
    Behaviour,
    Blackhole,
    BrokenTLS,
    Closed,
    CloseOnAccept,
    Drip,
    Garbage,
    Hang,
    Http,
    HugeBody,
    ResetMidAnswer,
    ResetOnAccept,
    Sequence,
)
from akslbctl.lab.httpserver import App, Request, Response, Route, Router, json_response

if TYPE_CHECKING:
    from akslbctl.lab.cluster import LabCluster

Doc = dict[str, Any]

_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
# Seconds an Http(s) probe waits for an answer (probe-semantics.md §1).
HTTP_PROBE_TIMEOUT = 30.0
# The action the rule-health POST needs. The exact action name is UNVERIFIED (probe-semantics.md
# §5.1); the lab only needs a plausible one for its 403 message.
RULE_HEALTH_ACTION = "Microsoft.Network/loadBalancers/loadBalancingRules/health/action"
LB_CHILDREN = (
    "frontendIPConfigurations",
    "backendAddressPools",
    "loadBalancingRules",
    "probes",
    "outboundRules",
    "inboundNatRules",
)
# Route kind (the second part of a route name) → the arm_forbidden scope that refuses it.
SCOPES = {
    "loadBalancers": "lb",
    "publicIPAddresses": "pip",
    "networkInterfaces": "nic",
    "virtualNetworks": "vnet",
    "virtualNetworkPeerings": "vnet",
    "subnets": "subnet",
    "networkSecurityGroups": "nsg",
    "securityRules": "nsg",
    "defaultSecurityRules": "nsg",
    "privateLinkServices": "pls",
    "rule-health": "rule-health",
    "instanceView": "vm",
}
# Child kinds whose read action sits under their parent's.
_PARENT = {
    "subnets": "virtualNetworks",
    "virtualNetworkPeerings": "virtualNetworks",
    "securityRules": "networkSecurityGroups",
    "defaultSecurityRules": "networkSecurityGroups",
}


def arm_error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}, separators=(",", ":")).encode()


def arm_error(status: int, code: str, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(
        status, arm_error_body(code, message), (("Content-Type", "application/json; charset=utf-8"), *headers)
    )


# ---------------------------------------------------------------------------------------------
# Azure's view of one member


def azure_verdict(behaviour: Behaviour, protocol: str, path: str | None) -> tuple[str, str]:
    """(state, reason) Azure's prober reports for a member answering ``behaviour`` on the probe port.

    Tcp: up when the handshake completes (probe-semantics.md §1), so anything that accepts is up —
    also a node that resets or closes right after accepting (the handshake is judged alone); a
    refusal or a dropped SYN is ``Down_Probe_TcpProbeTimeout`` (Azure has no separate code for a
    refused Tcp probe). Http(s): only 200 is up.
    """
    if isinstance(behaviour, Sequence):
        # Azure probes every few seconds: the steady state is the step that repeats.
        behaviour = behaviour.steps[-1] if behaviour.steps else Closed()
    if protocol == "Tcp":
        if isinstance(behaviour, (Closed, Blackhole)):
            return "Down", "Down_Probe_TcpProbeTimeout"
        return "Up", "Up_Probe_Success"
    unreachable = ("Down", "Down_Probe_HttpEndpointUnreachable")
    no_response = ("Down", "Down_Probe_HttpNoResponse")
    status: int | None
    if isinstance(behaviour, (Closed, ResetOnAccept, CloseOnAccept, ResetMidAnswer, Garbage, BrokenTLS)):
        return unreachable
    if isinstance(behaviour, (Blackhole, Hang)):
        return no_response
    if isinstance(behaviour, Drip):
        if len(behaviour.data) * behaviour.interval >= HTTP_PROBE_TIMEOUT:
            return no_response
        status = _status_of(behaviour.data)
    elif isinstance(behaviour, HugeBody):
        status = behaviour.status
    elif isinstance(behaviour, Http):
        if behaviour.tls != (protocol == "Https"):
            return unreachable  # a TLS handshake against plain HTTP, or plain HTTP against TLS
        status = behaviour.routes.get(path or "/", behaviour.default).status
    else:
        return unreachable
    if status is None:
        return unreachable
    if status == 200:
        return "Up", "Up_Probe_Success"
    return "Down", "Down_Probe_HttpStatusCodeError"


def _status_of(data: bytes) -> int | None:
    parts = data.split(b"\r\n", 1)[0].split(b" ")
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# The API


class ArmApi(App):
    """ARM routes for one :class:`~akslbctl.lab.cluster.LabCluster`.

    ``behaviours`` is the live (address, port) → behaviour table the node listeners serve; the lab
    changes it together with the listeners so that Azure's verdict follows the data plane.
    ``retry_after`` (default: the cluster's) is the rule-health ``Retry-After`` in whole seconds, as
    ARM sends it (azure-mgmt-network parses it as an integer); 0 lets the client use its own interval.
    """

    def __init__(
        self,
        cluster: LabCluster,
        token: str,
        *,
        behaviours: Mapping[tuple[str, int], Behaviour] | None = None,
        scheme: str = "http",
        page_size: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.cluster = cluster
        self.token = token
        self.behaviours = behaviours if behaviours is not None else {}
        self.scheme = scheme
        self.page_size = page_size
        self.retry_after = cluster.rule_health_retry_after if retry_after is None else retry_after
        self.operations: dict[str, dict[str, Any]] = {}
        self._nics = {n["id"].lower(): n for n in cluster.nics}
        self._ipconfig_ip: dict[str, str | None] = {}
        for nic in cluster.nics:
            for ipc in nic["properties"]["ipConfigurations"]:
                self._ipconfig_ip[ipc["id"].lower()] = ipc["properties"].get("privateIPAddress")
        self.router = Router(case_insensitive=True)
        sub = "/subscriptions/{sub}"
        rg = sub + "/resourceGroups/{rg}"
        net = "/providers/Microsoft.Network"
        lbs = rg + net + "/loadBalancers"
        r = self.router
        r.add("GET", sub + net + "/loadBalancers", "arm.loadBalancers.list", self._list_lbs)
        r.add("GET", lbs, "arm.loadBalancers.list", self._list_lbs)
        r.add("GET", lbs + "/{lb}", "arm.loadBalancers.get", self._get_lb)
        r.add("GET", lbs + "/{lb}/{coll}", "arm.loadBalancers.children.list", self._list_children)
        r.add("GET", lbs + "/{lb}/{coll}/{name}", "arm.loadBalancers.children.get", self._get_child)
        r.add("POST", lbs + "/{lb}/loadBalancingRules/{rule}/health", "arm.rule-health", self._start_health)
        r.add("GET", sub + net + "/locations/{loc}/operationResults/{op}", "arm.rule-health.poll", self._poll)
        r.add("GET", sub + net + "/publicIPAddresses", "arm.publicIPAddresses.list", self._list_pips)
        r.add("GET", rg + net + "/publicIPAddresses", "arm.publicIPAddresses.list", self._list_pips)
        r.add("GET", rg + net + "/publicIPAddresses/{name}", "arm.publicIPAddresses.get", self._get_pip)
        r.add("GET", rg + net + "/networkInterfaces", "arm.networkInterfaces.list", self._list_nics)
        r.add("GET", rg + net + "/networkInterfaces/{name}", "arm.networkInterfaces.get", self._get_nic)
        vmss = rg + "/providers/Microsoft.Compute/virtualMachineScaleSets/{vmss}"
        r.add("GET", vmss + "/networkInterfaces", "arm.networkInterfaces.list", self._list_nics)
        r.add(
            "GET",
            vmss + "/virtualMachines/{vm}/networkInterfaces",
            "arm.networkInterfaces.list",
            self._list_nics,
        )
        r.add(
            "GET",
            vmss + "/virtualMachines/{vm}/networkInterfaces/{name}",
            "arm.networkInterfaces.get",
            self._get_nic,
        )
        r.add("GET", vmss + "/virtualMachines/{vm}/instanceView", "arm.instanceView.get", self._instance_view)
        r.add(
            "GET",
            rg + "/providers/Microsoft.Compute/virtualMachines/{vm}/instanceView",
            "arm.instanceView.get",
            self._instance_view,
        )
        vnets = rg + net + "/virtualNetworks"
        r.add("GET", sub + net + "/virtualNetworks", "arm.virtualNetworks.list", self._list_vnets)
        r.add("GET", vnets, "arm.virtualNetworks.list", self._list_vnets)
        r.add("GET", vnets + "/{vnet}", "arm.virtualNetworks.get", self._get_vnet)
        r.add("GET", vnets + "/{vnet}/subnets", "arm.subnets.list", self._list_subnets)
        r.add("GET", vnets + "/{vnet}/subnets/{name}", "arm.subnets.get", self._get_subnet)
        r.add("GET", vnets + "/{vnet}/virtualNetworkPeerings", "arm.virtualNetworkPeerings.list", self._list_peerings)
        r.add(
            "GET", vnets + "/{vnet}/virtualNetworkPeerings/{name}", "arm.virtualNetworkPeerings.get", self._get_peering
        )
        nsgs = rg + net + "/networkSecurityGroups"
        r.add("GET", sub + net + "/networkSecurityGroups", "arm.networkSecurityGroups.list", self._list_nsgs)
        r.add("GET", nsgs, "arm.networkSecurityGroups.list", self._list_nsgs)
        r.add("GET", nsgs + "/{nsg}", "arm.networkSecurityGroups.get", self._get_nsg)
        for kind in ("securityRules", "defaultSecurityRules"):
            r.add("GET", nsgs + "/{nsg}/" + kind, f"arm.{kind}.list", self._nsg_rules(kind))
            r.add("GET", nsgs + "/{nsg}/" + kind + "/{name}", f"arm.{kind}.get", self._nsg_rule(kind))
        pls = rg + net + "/privateLinkServices"
        r.add("GET", sub + net + "/privateLinkServices", "arm.privateLinkServices.list", self._list_pls)
        r.add("GET", pls, "arm.privateLinkServices.list", self._list_pls)
        r.add("GET", pls + "/{name}", "arm.privateLinkServices.get", self._get_pls)

    # -- routing ---------------------------------------------------------------------------------

    def resolve(self, request: Request) -> Route:
        matched = self.router.match(request.method, request.path)
        is_write = request.method != "GET" and not (matched and matched[3] and matched[0] == "arm.rule-health")
        token = request.bearer_token()
        if token != self.token:
            call = _missing_token if token is None else _invalid_token
            return Route("arm.unauthorized", call, faultable=False, write=is_write)
        if is_write:
            return Route(
                "arm.write",
                lambda: arm_error(
                    405,
                    "MethodNotAllowed",
                    f"The requested resource does not support http method '{request.method}'.",
                ),
                write=True,
            )
        version = request.param("api-version")
        if not version:
            return Route(
                "arm.bad-request",
                lambda: arm_error(
                    400,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                ),
            )
        if not _API_VERSION.match(version):
            return Route(
                "arm.bad-request",
                lambda: arm_error(
                    400,
                    "InvalidApiVersionParameter",
                    f"The api-version '{version}' is invalid. The supported versions are '2026-03-01'.",
                ),
            )
        if matched is None:
            return Route("arm.notfound", lambda: self._no_route(request))
        name, handler, params, method_ok = matched
        if not method_ok:
            return Route(
                name,
                lambda: arm_error(
                    405,
                    "MethodNotAllowed",
                    f"The requested resource does not support http method '{request.method}'.",
                ),
            )
        if params["sub"].lower() not in self.subscriptions():
            return Route(
                name,
                lambda: arm_error(
                    404, "SubscriptionNotFound", f"The subscription '{params['sub']}' could not be found."
                ),
            )
        forbidden = {f.lower() for f in self.cluster.arm_forbidden}
        scope = SCOPES.get(name.split(".")[1]) if name.count(".") >= 1 else None
        rg_scope = f"rg:{params['rg'].lower()}" if "rg" in params else None
        if "*" in forbidden or (scope and scope in forbidden) or (rg_scope and rg_scope in forbidden):
            return Route(name, lambda: self._forbidden(request, name))
        if "rg" in params and params["rg"].lower() not in self.resource_groups(params["sub"]):
            return Route(
                name,
                lambda: arm_error(404, "ResourceGroupNotFound", f"Resource group '{params['rg']}' could not be found."),
            )
        return Route(name, lambda: self._with_ids(handler(request, **params)))

    def resource_groups(self, subscription: str | None = None) -> set[str]:
        """The resource groups that exist in ``subscription`` (default: the cluster's), lower-cased: the
        node resource group and every group the cluster's ARM documents live in (a BYO VNet's, a custom
        NSG's) — each in its own subscription, as ARM has them (a hub VNet elsewhere is not found under
        the cluster's subscription)."""
        sub = (subscription or self.cluster.subscription).lower()
        groups = {self.cluster.node_resource_group.lower()} if sub == self.cluster.subscription.lower() else set()
        for doc_sub, rg in self._placed():
            if doc_sub == sub:
                groups.add(rg)
        return groups

    def subscriptions(self) -> set[str]:
        """The subscriptions the lab serves (lower-cased): the cluster's and any a document lives in."""
        return {self.cluster.subscription.lower(), *(doc_sub for doc_sub, _ in self._placed())}

    def _placed(self) -> set[tuple[str, str]]:
        c = self.cluster
        out = set()
        for doc in (*c.virtual_networks, *c.security_groups, *c.private_link_services, *c.load_balancers):
            rg, doc_sub = _rg_of(doc["id"]), _sub_of(doc["id"])
            if rg and doc_sub:
                out.add((doc_sub, rg))
        return out

    @staticmethod
    def _with_ids(response: Response) -> Response:
        request_id = str(uuid.uuid4())
        return Response(
            response.status,
            response.body,
            (*response.headers, ("x-ms-request-id", request_id), ("x-ms-correlation-request-id", request_id)),
        )

    def _no_route(self, request: Request) -> Response:
        return arm_error(
            404,
            "NotFound",
            f"The requested path '{request.path}' was not found on this server.",
        )

    def _forbidden(self, request: Request, route: str) -> Response:
        if route == "arm.rule-health":
            action = RULE_HEALTH_ACTION
        elif route == "arm.instanceView.get":
            vmss = "/virtualmachinescalesets/" in request.path.lower()
            action = f"Microsoft.Compute/{'virtualMachineScaleSets/' if vmss else ''}virtualMachines/instanceView/read"
        elif "networkInterfaces" in route and "/virtualmachinescalesets/" in request.path.lower():
            action = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/networkInterfaces/read"
        else:
            kind = route.split(".")[1]
            parent = _PARENT.get(kind)
            action = f"Microsoft.Network/{parent}/{kind}/read" if parent else f"Microsoft.Network/{kind}/read"
        return arm_error(
            403,
            "AuthorizationFailed",
            f"The client 'lab-client' with object id '00000000-0000-0000-0000-00000000c1a5' does not have "
            f"authorization to perform action '{action}' over scope '{request.path}' or the scope is "
            "invalid. If access was recently granted, please refresh your credentials.",
        )

    # -- helpers ---------------------------------------------------------------------------------

    def _list(self, request: Request, items: list[Doc]) -> Response:
        if not self.page_size:
            return json_response(200, {"value": items})
        try:
            start = int(request.param("$skipToken") or request.param("$skiptoken") or "0")
        except ValueError:
            return arm_error(400, "InvalidSkipToken", "The skip token is invalid.")
        page = items[start : start + self.page_size]
        doc: Doc = {"value": page}
        if start + self.page_size < len(items):
            query = "&".join(
                p for p in request.query_string.split("&") if p and not p.lower().startswith("$skiptoken=")
            )
            doc["nextLink"] = (
                f"{self.scheme}://{request.host}{request.path}?{query}&$skipToken={start + self.page_size}"
            )
        return json_response(200, doc)

    def _lb(self, name: str, rg: str | None = None) -> Doc | None:
        return _find(self.cluster.load_balancers, name, rg)

    def _not_found(self, type_: str, name: str, rg: str | None = None) -> Response:
        return arm_error(
            404,
            "ResourceNotFound",
            f"The Resource '{type_}/{name}' under resource group '{rg or self.cluster.node_resource_group}' was "
            "not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        )

    @staticmethod
    def _child_not_found(request: Request) -> Response:
        return arm_error(404, "NotFound", f"Resource {request.path} not found.")

    # -- load balancers ----------------------------------------------------------------------------

    def _list_lbs(self, request: Request, sub: str, rg: str | None = None) -> Response:
        return self._list(request, _in_rg(self.cluster.load_balancers, rg))

    def _get_lb(self, request: Request, sub: str, rg: str, lb: str) -> Response:
        doc = self._lb(lb, rg)
        if doc is None:
            return self._not_found("Microsoft.Network/loadBalancers", lb, rg)
        return json_response(200, doc)

    def _children(self, lb: str, coll: str, rg: str) -> tuple[Doc | None, str | None]:
        doc = self._lb(lb, rg)
        key = next((c for c in LB_CHILDREN if c.lower() == coll.lower()), None)
        return doc, key

    def _list_children(self, request: Request, sub: str, rg: str, lb: str, coll: str) -> Response:
        doc, key = self._children(lb, coll, rg)
        if doc is None:
            return self._not_found("Microsoft.Network/loadBalancers", lb, rg)
        if key is None:
            return self._no_route(request)
        return self._list(request, list(doc["properties"].get(key, [])))

    def _get_child(self, request: Request, sub: str, rg: str, lb: str, coll: str, name: str) -> Response:
        doc, key = self._children(lb, coll, rg)
        if doc is None:
            return self._not_found("Microsoft.Network/loadBalancers", lb, rg)
        if key is None:
            return self._no_route(request)
        child = next((c for c in doc["properties"].get(key, []) if c["name"].lower() == name.lower()), None)
        if child is None:
            return arm_error(404, "NotFound", f"Resource {request.path} not found.")
        return json_response(200, child)

    # -- public IPs and NICs -----------------------------------------------------------------------

    def _list_pips(self, request: Request, sub: str, rg: str | None = None) -> Response:
        return self._list(request, _in_rg(self.cluster.public_ips, rg))

    def _get_pip(self, request: Request, sub: str, rg: str, name: str) -> Response:
        doc = _find(self.cluster.public_ips, name, rg)
        if doc is None:
            return self._not_found("Microsoft.Network/publicIPAddresses", name, rg)
        return json_response(200, doc)

    def _list_nics(
        self, request: Request, sub: str, rg: str, vmss: str | None = None, vm: str | None = None
    ) -> Response:
        prefix = request.path.lower().rstrip("/").rsplit("/networkinterfaces", 1)[0]
        if vmss is None:
            items = [n for n in _in_rg(self.cluster.nics, rg) if "/virtualmachinescalesets/" not in n["id"].lower()]
        else:
            items = [n for n in self.cluster.nics if n["id"].lower().startswith(prefix + "/")]
        return self._list(request, items)

    def _get_nic(
        self, request: Request, sub: str, rg: str, name: str, vmss: str | None = None, vm: str | None = None
    ) -> Response:
        doc = self._nics.get(request.path.lower().rstrip("/"))
        if doc is None:
            return self._not_found("Microsoft.Network/networkInterfaces", name, rg)
        return json_response(200, doc)

    def _instance_view(self, request: Request, sub: str, rg: str, vm: str, vmss: str | None = None) -> Response:
        """A VM's instance view: provisioning and power state (``cluster.vm_power``, default running)."""
        vm_id = request.path.rstrip("/").rsplit("/instanceView", 1)[0].lower()
        known = {n["properties"]["virtualMachine"]["id"].lower() for n in self.cluster.nics}
        if vm_id not in known:
            return self._not_found(
                "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
                if vmss
                else "Microsoft.Compute/virtualMachines",
                vm,
                rg,
            )
        power = self.cluster.vm_power.get(vm_id, "running")
        return json_response(
            200,
            {
                "platformUpdateDomain": 0,
                "platformFaultDomain": 0,
                "statuses": [
                    {
                        "code": "ProvisioningState/succeeded",
                        "level": "Info",
                        "displayStatus": "Provisioning succeeded",
                    },
                    {"code": f"PowerState/{power}", "level": "Info", "displayStatus": f"VM {power}"},
                ],
            },
        )

    # -- the network path: VNets, subnets, peerings, NSGs, Private Link Services ---------------------

    def _list_vnets(self, request: Request, sub: str, rg: str | None = None) -> Response:
        return self._list(request, _in_rg(self.cluster.virtual_networks, rg))

    def _get_vnet(self, request: Request, sub: str, rg: str, vnet: str) -> Response:
        doc = _find(self.cluster.virtual_networks, vnet, rg)
        if doc is None:
            return self._not_found("Microsoft.Network/virtualNetworks", vnet, rg)
        return json_response(200, doc)

    def _vnet_children(self, request: Request, rg: str, vnet: str, key: str, name: str | None) -> Response:
        doc = _find(self.cluster.virtual_networks, vnet, rg)
        if doc is None:
            return self._not_found("Microsoft.Network/virtualNetworks", vnet, rg)
        children = list(doc["properties"].get(key, []))
        if name is None:
            return self._list(request, children)
        child = next((c for c in children if c["name"].lower() == name.lower()), None)
        return self._child_not_found(request) if child is None else json_response(200, child)

    def _list_subnets(self, request: Request, sub: str, rg: str, vnet: str) -> Response:
        return self._vnet_children(request, rg, vnet, "subnets", None)

    def _get_subnet(self, request: Request, sub: str, rg: str, vnet: str, name: str) -> Response:
        return self._vnet_children(request, rg, vnet, "subnets", name)

    def _list_peerings(self, request: Request, sub: str, rg: str, vnet: str) -> Response:
        return self._vnet_children(request, rg, vnet, "virtualNetworkPeerings", None)

    def _get_peering(self, request: Request, sub: str, rg: str, vnet: str, name: str) -> Response:
        return self._vnet_children(request, rg, vnet, "virtualNetworkPeerings", name)

    def _list_nsgs(self, request: Request, sub: str, rg: str | None = None) -> Response:
        return self._list(request, _in_rg(self.cluster.security_groups, rg))

    def _get_nsg(self, request: Request, sub: str, rg: str, nsg: str) -> Response:
        doc = _find(self.cluster.security_groups, nsg, rg)
        if doc is None:
            return self._not_found("Microsoft.Network/networkSecurityGroups", nsg, rg)
        return json_response(200, doc)

    def _nsg_rules(self, key: str):
        def handler(request: Request, sub: str, rg: str, nsg: str) -> Response:
            doc = _find(self.cluster.security_groups, nsg, rg)
            if doc is None:
                return self._not_found("Microsoft.Network/networkSecurityGroups", nsg, rg)
            return self._list(request, list(doc["properties"].get(key, [])))

        return handler

    def _nsg_rule(self, key: str):
        def handler(request: Request, sub: str, rg: str, nsg: str, name: str) -> Response:
            doc = _find(self.cluster.security_groups, nsg, rg)
            if doc is None:
                return self._not_found("Microsoft.Network/networkSecurityGroups", nsg, rg)
            rule = _find(doc["properties"].get(key, []), name, None)
            return self._child_not_found(request) if rule is None else json_response(200, rule)

        return handler

    def _list_pls(self, request: Request, sub: str, rg: str | None = None) -> Response:
        return self._list(request, _in_rg(self.cluster.private_link_services, rg))

    def _get_pls(self, request: Request, sub: str, rg: str, name: str) -> Response:
        doc = _find(self.cluster.private_link_services, name, rg)
        if doc is None:
            return self._not_found("Microsoft.Network/privateLinkServices", name, rg)
        return json_response(200, doc)

    # -- rule health -------------------------------------------------------------------------------

    def _start_health(self, request: Request, sub: str, rg: str, lb: str, rule: str) -> Response:
        version = request.param("api-version") or ""
        if version < self.cluster.rule_health_min_api_version:
            return arm_error(
                404,
                "InvalidResourceType",
                "The resource type 'loadBalancers/loadBalancingRules/health' could not be found in the "
                f"namespace 'Microsoft.Network' for api version '{version}'.",
            )
        lb_doc = self._lb(lb, rg)
        if lb_doc is None:
            return self._not_found("Microsoft.Network/loadBalancers", lb, rg)
        rule_doc = next(
            (r for r in lb_doc["properties"]["loadBalancingRules"] if r["name"].lower() == rule.lower()), None
        )
        if rule_doc is None:
            return arm_error(404, "NotFound", f"Resource {request.path.rsplit('/health', 1)[0]} not found.")
        if not rule_doc["properties"].get("probe"):
            # Azure documents no health for rules without a probe; what it answers is not documented.
            # The lab refuses with a 400 of its own naming.
            return arm_error(
                400,
                "LoadBalancingRuleHasNoProbe",
                f"Health is not available for load balancing rule '{rule_doc['name']}': it has no probe.",
            )
        op = str(uuid.uuid4())
        self.operations[op] = {
            "lb": lb_doc["name"],
            "rule": rule_doc["name"],
            "polls": self.cluster.rule_health_polls,
            "version": version,
        }
        return self._accepted(request, op, version)

    def _accepted(self, request: Request, op: str, version: str) -> Response:
        location = (
            f"{self.scheme}://{request.host}/subscriptions/{self.cluster.subscription}/providers/"
            f"Microsoft.Network/locations/{self.cluster.location}/operationResults/{op}?api-version={version}"
        )
        return Response(202, b"", (("Location", location), ("Retry-After", str(self.retry_after))))

    def _poll(self, request: Request, sub: str, loc: str, op: str) -> Response:
        state = self.operations.get(op)
        if state is None:
            return arm_error(404, "NotFound", f"Operation {op} not found.")
        polls = state["polls"]
        if polls is None or polls > 0:
            if polls is not None:
                state["polls"] = polls - 1
            return self._accepted(request, op, state["version"])
        lb_doc = self._lb(state["lb"])
        rule_doc = next(
            (
                r
                for r in (lb_doc or {}).get("properties", {}).get("loadBalancingRules", [])
                if r["name"] == state["rule"]
            ),
            None,
        )
        if lb_doc is None or rule_doc is None:
            return arm_error(404, "NotFound", f"Resource for operation {op} not found.")
        return json_response(200, self.rule_health(lb_doc, rule_doc))

    def rule_health(self, lb: Doc, rule: Doc) -> Doc:
        """``LoadBalancerHealthPerRule`` for one rule, as of now."""
        props = lb["properties"]
        probe_ref = rule["properties"].get("probe", {}).get("id", "").lower()
        probe = next((p for p in props["probes"] if p["id"].lower() == probe_ref), None)
        pool_ids = {
            ref["id"].lower()
            for ref in [
                rule["properties"].get("backendAddressPool"),
                *rule["properties"].get("backendAddressPools", []),
            ]
            if ref
        }
        members: list[tuple[str | None, str | None]] = []  # (ipconfig id, address)
        for pool in props["backendAddressPools"]:
            if pool["id"].lower() not in pool_ids:
                continue
            pp = pool["properties"]
            for m in pp.get("backendIPConfigurations", []):
                members.append((m["id"], self._ipconfig_ip.get(m["id"].lower())))
            for a in pp.get("loadBalancerBackendAddresses", []):
                ip = a.get("properties", {}).get("ipAddress")
                if ip:
                    members.append((None, ip))
        overrides = self.cluster.rule_health_overrides
        out = []
        up = down = 0
        for ipconfig, ip in members:
            entry: Doc = {"ipAddress": ip or ""}
            if ipconfig:
                entry["networkInterfaceIPConfigurationId"] = ipconfig
            if ip is None or probe is None:
                # No VM behind the member (or no probe): Azure reports empty values.
                entry.update(state="", reason="")
                out.append(entry)
                continue
            verdict = overrides.get((rule["name"].lower(), ip)) or overrides.get(("*", ip))
            if verdict is None:
                pprops = probe["properties"]
                # A dual-stack member's IPv6 address is the IPv4-mapped form of its IPv4 one: the same
                # listener answers both.
                beh = self.behaviours.get((_unmapped(ip), pprops["port"]), _CLOSED)
                verdict = azure_verdict(beh, pprops["protocol"], pprops.get("requestPath"))
            state, reason = verdict
            up += state == "Up"
            down += state == "Down"
            entry.update(state=state, reason=reason)
            out.append(entry)
        return {"up": up, "down": down, "loadBalancerBackendAddresses": out}


_CLOSED = Closed()


def _sub_of(resource_id: str) -> str | None:
    """The subscription of an ARM id, lower-cased."""
    parts = resource_id.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == "subscriptions":
            return parts[i + 1].lower()
    return None


def _rg_of(resource_id: str) -> str | None:
    """The resource group of an ARM id, lower-cased."""
    parts = resource_id.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.lower() == "resourcegroups":
            return parts[i + 1].lower()
    return None


def _in_rg(docs: list[Doc], rg: str | None) -> list[Doc]:
    """The documents in resource group ``rg`` (all of them for a subscription-wide list)."""
    if rg is None:
        return list(docs)
    return [d for d in docs if _rg_of(d["id"]) == rg.lower()]


def _find(docs: list[Doc], name: str, rg: str | None) -> Doc | None:
    return next((d for d in _in_rg(docs, rg) if d["name"].lower() == name.lower()), None)


def _unmapped(ip: str) -> str:
    """``::ffff:a.b.c.d`` → ``a.b.c.d``; any other address unchanged."""
    if ip[:7].lower() == "::ffff:" and "." in ip:
        return ip[7:]
    return ip


def _missing_token() -> Response:
    return arm_error(
        401,
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing.",
        _www_authenticate("The authentication failed because of missing 'Authorization' header."),
    )


def _invalid_token() -> Response:
    return arm_error(
        401,
        "InvalidAuthenticationToken",
        "The access token is invalid.",
        _www_authenticate("The access token is invalid."),
    )


def _www_authenticate(description: str) -> tuple[tuple[str, str], ...]:
    value = (
        'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", '
        f'error_description="{description}"'
    )
    return (("WWW-Authenticate", value),)
