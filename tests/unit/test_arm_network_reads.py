"""ArmSource's network-path reads (NICs of a scale set, VNets, subnets, NSGs, Private Link Services)
through the real azure-mgmt-network client against a tiny ARM on 127.0.0.1.

The server serves canned REST documents, a 403 ``AuthorizationFailed`` for everything in one resource
group and a 404 ``ResourceNotFound`` for anything else; it records every request so the tests can
check that nothing but GETs was sent.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from akslbctl.errors import EvidenceError, Forbidden
from akslbctl.sources import normalize
from akslbctl.sources.arm import ArmSource, _rg_and_name, resolve_endpoint

SUB = "0000-1111"
TOKEN = "test-token-not-a-secret"
MC = f"/subscriptions/{SUB}/resourceGroups/MC_rg_aks_westeurope"
NET = f"/subscriptions/{SUB}/resourceGroups/net-rg/providers/Microsoft.Network"  # a BYO VNet's group
LOCKED = f"/subscriptions/{SUB}/resourceGroups/locked-rg/providers/Microsoft.Network"  # no Reader here
VMSS = f"{MC}/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np-12345678-vmss"
NSG = f"{MC}/providers/Microsoft.Network/networkSecurityGroups/aks-agentpool-12345678-nsg"
VNET = f"{NET}/virtualNetworks/hub-vnet"
SUBNET = f"{VNET}/subnets/aks-subnet"
LB_FRONTEND = f"{MC}/providers/Microsoft.Network/loadBalancers/kubernetes-internal/frontendIPConfigurations/fe"


def _nic(i: int) -> dict:
    nic = f"{VMSS}/virtualMachines/{i}/networkInterfaces/aks-np-12345678-vmss"
    return {
        "name": "aks-np-12345678-vmss",
        "id": nic,
        "properties": {
            "virtualMachine": {"id": f"{VMSS}/virtualMachines/{i}"},
            "networkSecurityGroup": {"id": NSG},
            "ipConfigurations": [
                {
                    "name": "ipconfig1",
                    "id": f"{nic}/ipConfigurations/ipconfig1",
                    "properties": {"privateIPAddress": f"10.224.0.{4 + i}", "subnet": {"id": SUBNET}},
                }
            ],
        },
    }


SUBNET_DOC = {
    "name": "aks-subnet",
    "id": SUBNET,
    "etag": 'W/"3"',
    "properties": {"addressPrefix": "10.224.0.0/16", "networkSecurityGroup": {"id": NSG}},
}
VNET_DOC = {
    "name": "hub-vnet",
    "id": VNET,
    "location": "westeurope",
    "properties": {
        "addressSpace": {"addressPrefixes": ["10.224.0.0/12"]},
        "subnets": [SUBNET_DOC],
        "virtualNetworkPeerings": [
            {
                "name": "to-hub",
                "id": f"{VNET}/virtualNetworkPeerings/to-hub",
                "properties": {"peeringState": "Connected", "remoteAddressSpace": {"addressPrefixes": ["10.0.0.0/16"]}},
            }
        ],
    },
}
NSG_DOC = {
    "name": "aks-agentpool-12345678-nsg",
    "id": NSG,
    "properties": {
        "securityRules": [
            {
                "name": "allow-web",
                "id": f"{NSG}/securityRules/allow-web",
                "properties": {
                    "protocol": "Tcp",
                    "sourceAddressPrefix": "Internet",
                    "sourcePortRange": "*",
                    "destinationAddressPrefix": "*",
                    "destinationPortRanges": ["80", "443"],
                    "access": "Allow",
                    "priority": 500,
                    "direction": "Inbound",
                },
            }
        ],
        "defaultSecurityRules": [
            {
                "name": "DenyAllInBound",
                "id": f"{NSG}/defaultSecurityRules/DenyAllInBound",
                "properties": {
                    "protocol": "*",
                    "sourceAddressPrefix": "*",
                    "sourcePortRange": "*",
                    "destinationAddressPrefix": "*",
                    "destinationPortRange": "*",
                    "access": "Deny",
                    "priority": 65500,
                    "direction": "Inbound",
                },
            }
        ],
    },
}
PLS_DOC = {
    "name": "pls-web",
    "id": f"{MC}/providers/Microsoft.Network/privateLinkServices/pls-web",
    "properties": {"loadBalancerFrontendIpConfigurations": [{"id": LB_FRONTEND}], "enableProxyProtocol": True},
}


class _Arm(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str, dict[str, list[str]], str | None]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def routes(self) -> dict[str, dict]:
        """Canned answers by path (lower-case: ARM paths are case-insensitive)."""
        vmss_nics = f"{VMSS}/networkInterfaces"
        return {
            # two pages: the SDK follows nextLink (which ARM writes with the api-version in it)
            vmss_nics: {
                "value": [_nic(0), _nic(1)],
                "nextLink": f"{self.url}{vmss_nics}?api-version=2018-10-01&page=2",
            },
            f"{vmss_nics}?page=2": {"value": [_nic(2)]},
            VNET: VNET_DOC,
            SUBNET: SUBNET_DOC,
            NSG: NSG_DOC,
            f"{MC}/providers/Microsoft.Network/privateLinkServices": {"value": [PLS_DOC]},
        }

    def methods(self) -> set[str]:
        with self.lock:
            return {method for method, *_ in self.requests}

    def paths(self) -> list[str]:
        with self.lock:
            return [path for _, path, *_ in self.requests]


class _Handler(BaseHTTPRequestHandler):
    server: _Arm

    def _answer(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        with self.server.lock:
            self.server.requests.append((self.command, parts.path, query, self.headers.get("Authorization")))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        key = parts.path + ("?page=2" if query.get("page") == ["2"] else "")
        routes = {k.lower(): v for k, v in self.server.routes().items()}
        if self.command != "GET":
            status, body = 405, {"error": {"code": "MethodNotAllowed", "message": "read-only test server"}}
        elif "/resourcegroups/locked-rg/" in parts.path.lower():
            status, body = (
                403,
                {
                    "error": {
                        "code": "AuthorizationFailed",
                        "message": "The client does not have authorization to perform action "
                        "'Microsoft.Network/networkSecurityGroups/read' over scope '/subscriptions/…/locked-rg'.",
                    }
                },
            )
        elif key.lower() in routes:
            status, body = 200, routes[key.lower()]
        else:
            status, body = 404, {"error": {"code": "ResourceNotFound", "message": f"{parts.path} was not found."}}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format, *args) -> None:  # noqa: A002 - the stdlib's signature
        pass


@pytest.fixture
def server():
    arm = _Arm()
    thread = threading.Thread(target=arm.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield arm
    finally:
        arm.shutdown()
        arm.server_close()
        thread.join(timeout=5)


@pytest.fixture
def source(server, monkeypatch):
    monkeypatch.setenv("AKSLBCTL_ARM_TOKEN", TOKEN)
    arm = ArmSource(SUB, resolve_endpoint(server.url), timeout=5.0)
    try:
        yield arm
    finally:
        arm.close()
        # Read-only: whatever a test did, the server saw GETs only, each with the bearer token.
        assert server.methods() <= {"GET"}
        with server.lock:
            assert all(auth == f"Bearer {TOKEN}" for *_, auth in server.requests)
            assert all(query.get("api-version") for _, _, query, _ in server.requests)


def test_vmss_network_interfaces_every_page(source, server):
    docs = source.vmss_network_interfaces("MC_rg_aks_westeurope", "aks-np-12345678-vmss")
    assert docs == [_nic(0), _nic(1), _nic(2)]
    nics = [normalize.network_interface(d) for d in docs]
    assert {n.nsg_id for n in nics} == {NSG}
    assert [list(n.subnets.values()) for n in nics] == [[SUBNET]] * 3
    assert server.paths() == [f"{VMSS}/networkInterfaces"] * 2  # the second with ?page=2
    assert server.methods() == {"GET"}


def test_virtual_network_in_another_resource_group(source, server):
    doc = source.virtual_network(VNET)
    assert doc == VNET_DOC
    vnet = normalize.virtual_network(doc)
    assert vnet.peered_prefixes == ("10.0.0.0/16",) and vnet.subnets[0].nsg_id == NSG
    assert server.paths() == [VNET] and server.methods() == {"GET"}


def test_subnet_by_its_two_names(source, server):
    assert source.subnet(SUBNET) == SUBNET_DOC
    assert source.subnet(SUBNET.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/")) == SUBNET_DOC
    assert server.paths()[0] == f"{NET}/virtualNetworks/hub-vnet/subnets/aks-subnet"
    assert server.methods() == {"GET"}


def test_security_group(source, server):
    doc = source.security_group(NSG)
    assert doc == NSG_DOC
    nsg = normalize.security_group(doc)
    assert [(r.name, r.priority, r.destination_ports) for r in nsg.rules] == [("allow-web", 500, ("80", "443"))]
    assert [(r.name, r.access, r.default) for r in nsg.default_rules] == [("DenyAllInBound", "Deny", True)]
    assert server.methods() == {"GET"}


def test_private_link_services(source, server):
    docs = source.private_link_services("MC_rg_aks_westeurope")
    assert docs == [PLS_DOC]
    assert normalize.private_link_service(docs[0]).frontend_ids == (LB_FRONTEND,)
    assert server.paths() == [f"{MC}/providers/Microsoft.Network/privateLinkServices"]
    assert server.methods() == {"GET"}


@pytest.mark.parametrize(
    ("read", "arg"),
    [
        ("security_group", f"{LOCKED}/networkSecurityGroups/custom-nsg"),
        ("virtual_network", f"{LOCKED}/virtualNetworks/byo"),
        ("subnet", f"{LOCKED}/virtualNetworks/byo/subnets/nodes"),
    ],
)
def test_403_raises_forbidden_naming_the_group(source, server, read, arg):
    with pytest.raises(Forbidden) as err:
        getattr(source, read)(arg)
    assert "AuthorizationFailed" in str(err.value) and "locked-rg" in str(err.value)
    assert len(server.paths()) == 1  # a 403 is not retried
    assert server.methods() == {"GET"}


def test_403_on_lists_raises_forbidden(source, server):
    with pytest.raises(Forbidden):
        source.private_link_services("locked-rg")
    with pytest.raises(Forbidden):
        source.vmss_network_interfaces("locked-rg", "vmss")
    assert server.methods() == {"GET"}


@pytest.mark.parametrize(
    ("read", "arg"),
    [
        ("security_group", f"{NET}/networkSecurityGroups/gone"),
        ("virtual_network", f"{NET}/virtualNetworks/gone"),
        ("subnet", f"{VNET}/subnets/gone"),
    ],
)
def test_404_gives_none(source, server, read, arg):
    assert getattr(source, read)(arg) is None
    assert len(server.paths()) == 1
    assert server.methods() == {"GET"}


def test_a_missing_scale_set_is_an_evidence_error_not_an_empty_list(source, server):
    with pytest.raises(EvidenceError) as err:
        source.vmss_network_interfaces("MC_rg_aks_westeurope", "gone")
    assert not isinstance(err.value, Forbidden) and "ResourceNotFound" in str(err.value)
    assert server.methods() == {"GET"}


@pytest.mark.parametrize(
    ("read", "arg"),
    [
        ("security_group", "not-an-id"),
        ("security_group", f"/subscriptions/{SUB}/providers/Microsoft.Network/networkSecurityGroups/x"),
        ("virtual_network", f"{NET}/virtualNetworks"),
        ("subnet", VNET),  # a VNet id is not a subnet id
        ("subnet", f"{NET}/subnets/x"),  # nor is a subnet without its VNet
    ],
)
def test_unreadable_ids_give_none_without_asking(source, server, read, arg):
    assert getattr(source, read)(arg) is None
    assert server.paths() == []


@pytest.mark.parametrize(
    ("resource_id", "kinds", "expected"),
    [
        (SUBNET, ("virtualnetworks", "subnets"), ("net-rg", "hub-vnet", "aks-subnet")),
        (VNET, ("virtualnetworks", "subnets"), ("net-rg", "hub-vnet", None)),
        (VNET, ("virtualnetworks",), ("net-rg", "hub-vnet")),
        (NSG, ("networksecuritygroups",), ("MC_rg_aks_westeurope", "aks-agentpool-12345678-nsg")),
        # a resource group named like a segment is not the segment
        (
            f"/subscriptions/{SUB}/resourceGroups/subnets/providers/Microsoft.Network/virtualNetworks/v/subnets/s",
            ("virtualnetworks", "subnets"),
            ("subnets", "v", "s"),
        ),
        (
            "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/subnets/s",
            ("virtualnetworks", "subnets"),
            (
                "rg",
                None,
                "s",
            ),
        ),
        ("", ("networkinterfaces",), (None, None)),
    ],
)
def test_rg_and_name(resource_id, kinds, expected):
    assert _rg_and_name(resource_id, *kinds) == expected
