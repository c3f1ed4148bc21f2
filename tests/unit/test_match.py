"""Finding a Service's objects among other Services' on the same LBs (aks-lb-rules.md §3.2, §11)."""

from __future__ import annotations

from akslbctl.analysis.match import match, node_resource_group, vm_path
from akslbctl.model.azure import Frontend, LoadBalancer, NetworkInterface, Pool, PoolMember, Probe, PublicIP, Rule
from akslbctl.model.kube import Node, Service, ServicePort

UID = "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901"
P = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
OTHER = "a7c3e1f09b2d44e6a1c5f0e2d3b4a596"
RG = "/subscriptions/sub/resourceGroups/MC_rg_aks_westeurope"
LBID = f"{RG}/providers/Microsoft.Network/loadBalancers/kubernetes"
VMSS = f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np1-123-vmss"


def svc(**kw) -> Service:
    base = dict(
        namespace="default", name="web", uid=UID, ports=(ServicePort(80, node_port=30396),), ingress_ips=("20.1.2.3",)
    )
    base.update(kw)
    return Service(**base)


def nodes() -> list[Node]:
    return [
        Node(
            f"aks-np1-123-vmss00000{i}",
            (f"10.224.0.{4 + i}",),
            # providerIDs spell the resource group in lower case, ARM ids in upper case
            f"azure://{VMSS.lower()}/virtualMachines/{i}",
        )
        for i in range(3)
    ]


def lb(pool_members, name="kubernetes", lbid=LBID) -> LoadBalancer:
    pool = Pool(f"{lbid}/backendAddressPools/kubernetes", "kubernetes", tuple(pool_members))
    return LoadBalancer(
        id=lbid,
        name=name,
        resource_group="MC_rg_aks_westeurope",
        subscription="sub",
        frontends=(
            Frontend(f"{lbid}/frontendIPConfigurations/{P}", P, public_ip_id=f"{RG}/pip/kubernetes-{P}"),
            Frontend(f"{lbid}/frontendIPConfigurations/{OTHER}", OTHER, public_ip_id=f"{RG}/pip/kubernetes-{OTHER}"),
        ),
        rules=(
            Rule(
                f"{lbid}/loadBalancingRules/{P}-TCP-80",
                f"{P}-TCP-80",
                "Tcp",
                80,
                80,
                f"{lbid}/frontendIPConfigurations/{P}",
                (pool.id,),
                f"{lbid}/probes/{P}-TCP-80",
            ),
            Rule(
                f"{lbid}/loadBalancingRules/{OTHER}-TCP-80",
                f"{OTHER}-TCP-80",
                "Tcp",
                80,
                80,
                f"{lbid}/frontendIPConfigurations/{OTHER}",
                (pool.id,),
                f"{lbid}/probes/{OTHER}-TCP-80",
            ),
        ),
        probes=(
            Probe(f"{lbid}/probes/{P}-TCP-80", f"{P}-TCP-80", "Tcp", 30396, interval=5, probe_threshold=2),
            Probe(f"{lbid}/probes/{OTHER}-TCP-80", f"{OTHER}-TCP-80", "Tcp", 31111),
            Probe(f"{lbid}/probes/{P.upper()}-TCP-8080", f"{P.upper()}-TCP-8080", "Tcp", 31000),
        ),
        pools=(pool,),
    )


def vmss_member(i: int) -> PoolMember:
    return PoolMember(ipconfig_id=f"{VMSS}/virtualMachines/{i}/networkInterfaces/aks-np1/ipConfigurations/ipconfig1")


def test_only_the_services_own_objects_are_taken():
    m = match(
        svc(),
        nodes(),
        [lb([vmss_member(0), vmss_member(1)])],
        [PublicIP(f"{RG}/pip/kubernetes-{P}", f"kubernetes-{P}", "20.1.2.3")],
    )
    assert m.lb.name == "kubernetes"
    assert [r.rule.name for r in m.rules] == [f"{P}-TCP-80"]
    assert [f.name for f in m.frontends] == [P]
    assert m.frontend_ips[m.frontends[0].id.lower()] == "20.1.2.3"
    assert m.rules[0].probe.port == 30396
    # a prefixed probe no rule uses (upper-case: ownership is case-insensitive) is an orphan
    assert [p.port for p in m.orphan_probes] == [31000]


def test_vmss_members_map_to_nodes_case_insensitively():
    m = match(svc(), nodes(), [lb([vmss_member(0), vmss_member(2)])])
    members = m.rules[0].members
    assert [(x.node.name, x.address) for x in members] == [
        ("aks-np1-123-vmss000000", "10.224.0.4"),
        ("aks-np1-123-vmss000002", "10.224.0.6"),
    ]
    assert m.rules[0].member_for(nodes()[1]) is None


def test_ip_pool_members_map_by_address_and_unknown_ones_are_kept():
    m = match(
        svc(),
        nodes(),
        [
            lb(
                [
                    PoolMember(ip_address="10.224.0.5", name="aks-np1-123-vmss000001"),
                    PoolMember(ip_address="10.224.0.99", name="gone"),
                ]
            )
        ],
    )
    members = m.rules[0].members
    assert members[0].node.name == "aks-np1-123-vmss000001"
    assert members[1].node is None and members[1].address == "10.224.0.99"
    assert [u.address for u in m.unmatched_members] == ["10.224.0.99"]


def test_vmas_nic_members_resolve_through_the_nic():
    nic_id = f"{RG}/providers/Microsoft.Network/networkInterfaces/aks-np1-123-nic-0"
    vm = Node(
        "aks-np1-123-0", ("10.240.0.4",), f"azure://{RG}/providers/Microsoft.Compute/virtualMachines/aks-np1-123-0"
    )
    nic = NetworkInterface(
        nic_id,
        vm_id=f"{RG.upper()}/providers/Microsoft.Compute/virtualMachines/AKS-NP1-123-0",
        ipconfigs={f"{nic_id}/ipConfigurations/ipconfig1".lower(): "10.240.0.4"},
    )
    m = match(svc(), [vm], [lb([PoolMember(ipconfig_id=f"{nic_id}/ipConfigurations/ipconfig1")])], nics=[nic])
    assert m.rules[0].members[0].node.name == "aks-np1-123-0"
    assert m.rules[0].members[0].address == "10.240.0.4"


def test_shared_frontend_found_by_ingress_ip():
    # Service B pins A's IP: its rules use its own prefix but point at A's frontend.
    other_uid = "7c3e1f09-b2d4-4e6a-1c5f-0e2d3b4a5961"
    b = svc(uid=other_uid, ingress_ips=("20.1.2.3",))
    m = match(b, nodes(), [lb([vmss_member(0)])], [PublicIP(f"{RG}/pip/kubernetes-{P}", f"kubernetes-{P}", "20.1.2.3")])
    assert {f.name for f in m.frontends} == {P, OTHER}  # by IP, and by prefix
    assert [r.rule.name for r in m.rules] == [f"{OTHER}-TCP-80"]


def test_no_lb_has_the_service():
    m = match(svc(uid="00000000-0000-0000-0000-000000000000"), nodes(), [lb([vmss_member(0)])])
    assert m.lb is None and not m.found


def test_leftovers_on_a_second_lb_are_reported_not_mixed():
    internal_id = LBID + "-internal"
    stale = LoadBalancer(
        id=internal_id,
        name="kubernetes-internal",
        frontends=(Frontend(f"{internal_id}/frontendIPConfigurations/{P}", P, private_ip="10.0.0.9"),),
    )
    m = match(svc(), nodes(), [stale, lb([vmss_member(0)])])
    assert m.lb.name == "kubernetes"
    assert [x.name for x in m.other_lbs] == ["kubernetes-internal"]
    assert "kubernetes-internal" in m.notes[0]


def test_vm_path_and_resource_group():
    a = vm_path(
        "azure:///subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachineScaleSets/V/virtualMachines/3"
    )
    b = vm_path(
        "/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualMachineScaleSets/v/virtualMachines/3/networkInterfaces/n/ipConfigurations/c"
    )
    assert a == b
    assert vm_path("/subscriptions/s/networkInterfaces/n") is None
    assert node_resource_group(nodes()) == ("sub", "mc_rg_aks_westeurope")
    assert node_resource_group([Node("kind-worker", provider_id="kind://docker/kind/kind-worker")]) == (None, None)


def test_a_load_balancer_the_provider_built_nothing_on_is_not_adopted():
    """A user's LB with a frontend on the Service's IP, and no object named with the Service's prefix:
    not the Service's LB (issue 13 §10) — it is named in a note, and nothing is matched."""
    from akslbctl.model.azure import Frontend, LoadBalancer, Probe, Rule

    lb_id = "/subscriptions/s/resourceGroups/mc_rg/providers/Microsoft.Network/loadBalancers/user-lb"
    user = LoadBalancer(
        id=lb_id,
        name="user-lb",
        resource_group="mc_rg",
        subscription="s",
        sku="Standard",
        frontends=(Frontend(id=f"{lb_id}/frontendIPConfigurations/fe", name="fe", private_ip="20.1.2.3"),),
        rules=(Rule(f"{lb_id}/loadBalancingRules/http", "http", "Tcp", frontend_port=80, backend_port=80),),
        probes=(Probe(id=f"{lb_id}/probes/p", name="p", protocol="Tcp", port=80),),
    )
    found = match(svc(), [], [user])
    assert found.lb is None
    assert found.unmanaged and "user-lb" in found.unmanaged[0]
    assert "user-lb" in found.not_found_why


def test_a_service_without_a_uid_owns_nothing():
    from akslbctl.analysis.names import owns, service_prefix, uid_problem

    assert uid_problem("") == "has no metadata.uid"
    assert "not a Kubernetes UID" in uid_problem("web-1")
    assert uid_problem(UID) is None
    assert not owns(service_prefix(""), "a7f525b5b8c8e418b877bdd5cfffa72d-TCP-80")
    assert owns(service_prefix(UID), service_prefix(UID) + "-TCP-80")


def test_nodes_without_a_provider_id_join_their_members_by_computer_name():
    from akslbctl.analysis.match import pool_members, vmss_computer_name
    from akslbctl.model.azure import Pool, PoolMember

    vmss = "/subscriptions/s/resourceGroups/mc_rg/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np-1-vmss"
    ids = [f"{vmss}/virtualMachines/{i}/networkInterfaces/nic/ipConfigurations/ipconfig1" for i in (1, 36)]
    assert [vmss_computer_name(i) for i in ids] == ["aks-np-1-vmss000001", "aks-np-1-vmss000010"]
    named = (("aks-np-1-vmss000001", "10.0.0.4"), ("worker", "10.0.0.5"))
    nodes = [Node(name=n, internal_ips=(ip,)) for n, ip in named]
    pool = Pool(id="p", name="kubernetes", members=tuple(PoolMember(ipconfig_id=i) for i in ids))
    got = pool_members(pool, nodes)
    assert [m.node.name if m.node else None for m in got] == ["aks-np-1-vmss000001", None]
