"""explain -A and -l: one row (or one document) per LoadBalancer Service, evidence shared across them,
the worst exit code; and explain --tree / --svg for one Service."""

from __future__ import annotations

import pytest
import yaml
from support import cli

from akslbctl.lab.cluster import AksBuilder
from akslbctl.lab.httpserver import Fault
from akslbctl.lab.scenarios import INGRESS_DEFAULT_BACKEND


def rows(stdout: str) -> dict[tuple[str, str], list[str]]:
    lines = stdout.splitlines()
    assert lines[0].split()[:2] == ["NAMESPACE", "NAME"]
    out = {}
    for line in lines[1:]:
        if not line.strip():
            break
        cells = line.split()
        out[(cells[0], cells[1])] = cells
    return out


def test_all_namespaces_one_row_per_loadbalancer_service(lab):
    lab("multi-service")
    result = cli("explain", "-A")
    assert result.exit_code == 0, result.stderr
    table = rows(result.stdout)
    assert set(table) == {("default", "api"), ("default", "web"), ("shop", "store")}  # not the ClusterIP cache
    # NAMESPACE NAME POLICY RULES POOL UP DOWN WORST
    assert table[("default", "web")] == ["default", "web", "Cluster", "1", "3", "3", "0", "-"]
    assert table[("default", "api")] == ["default", "api", "Local", "1", "3", "1", "2", "-"]
    assert table[("shop", "store")][2:7] == ["Cluster", "1", "3", "3", "0"]
    assert "3 LoadBalancer Services, nothing wrong." in result.stdout


def test_all_namespaces_json_is_a_service_diagnosis_list(lab):
    lab("multi-service")
    result = cli("explain", "-A", "-o", "json")
    assert result.exit_code == 0
    # Contract §5.3: one List document, as kubectl prints one for `get -o json`.
    assert (result.json["apiVersion"], result.json["kind"]) == ("akslbctl/v1alpha1", "ServiceDiagnosisList")
    assert set(result.json) == {"apiVersion", "kind", "items"}
    docs = result.json["items"]
    assert [(d["service"]["namespace"], d["service"]["name"]) for d in docs] == [
        ("default", "api"),
        ("default", "web"),
        ("shop", "store"),
    ]
    assert {d["kind"] for d in docs} == {"ServiceDiagnosis"}
    api = docs[0]
    assert api["rules"][0]["probe"]["port"] == 32100 and api["rules"][0]["up"] == 1
    assert docs[2]["loadBalancer"]["name"] == "kubernetes-internal"


def test_all_namespaces_yaml_is_a_list(lab):
    lab("multi-service")
    result = cli("explain", "-A", "-o", "yaml")
    doc = yaml.safe_load(result.stdout)
    assert doc["kind"] == "ServiceDiagnosisList"
    assert [d["service"]["name"] for d in doc["items"]] == ["api", "web", "store"]


def test_selector_in_the_context_namespace(lab):
    lab("multi-service")
    result = cli("explain", "-l", "app=web", "-o", "json")
    assert [d["service"]["name"] for d in result.json["items"]] == ["web"]
    assert [d["service"]["name"] for d in cli("explain", "-l", "app in (web,api)", "-o", "json").json["items"]] == [
        "api",
        "web",
    ]


def test_selector_with_namespace_and_with_all_namespaces(lab):
    lab("multi-service")
    in_shop = cli("explain", "-n", "shop", "-l", "app=store", "-o", "json").json["items"]
    assert [d["service"]["name"] for d in in_shop] == ["store"]
    everywhere = cli("explain", "-A", "-l", "app=store", "-o", "json").json["items"]
    assert [d["service"]["name"] for d in everywhere] == ["store"]


def test_nothing_selected_is_not_an_error(lab):
    lab("multi-service")
    result = cli("explain", "-l", "app=nothing", "-o", "json")
    assert (result.exit_code, result.json["kind"], result.json["items"]) == (0, "ServiceDiagnosisList", [])
    table = cli("explain", "-l", "app=nothing")
    assert table.stdout == "" and "No LoadBalancer Services found" in table.stderr


def test_shared_evidence_is_fetched_once(lab):
    running = lab("multi-service")
    running.clear_requests()
    # Nothing probed and no Azure view: no verdict for any Service (contract §5.1, exit 3).
    assert cli("explain", "-A", "--no-probe", "--no-azure-health").exit_code == 3
    gets = [(r.api, r.route) for r in running.requests if r.method == "GET"]
    assert gets.count(("kube", "kube.nodes.list")) == 1
    assert gets.count(("kube", "kube.version")) == 1
    assert gets.count(("arm", "arm.loadBalancers.list")) == 1
    assert gets.count(("arm", "arm.publicIPAddresses.list")) == 1
    assert gets.count(("kube", "kube.endpointslices.list")) == 3  # one per Service
    # The network path is shared as well: one VNet and one node NSG read for all the Services.
    assert gets.count(("arm", "arm.virtualNetworks.get")) == 1
    assert gets.count(("arm", "arm.networkSecurityGroups.get")) == 1


def test_exit_code_is_the_worst_of_the_services(lab):
    b = AksBuilder(name="many-one-dark")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    b.add_service(
        "ingress",
        ports=[{"port": 80, "nodePort": 31380, "appProtocol": "http"}],
        endpoints_on=[0, 1],
        app=INGRESS_DEFAULT_BACKEND,
    )
    lab(b.build())
    result = cli("explain", "-A")
    assert result.exit_code == 1
    table = rows(result.stdout)
    assert table[("default", "ingress")][5:8] == ["0", "3", "no-healthy-backend"]
    assert table[("default", "web")][7] == "-"
    # The footer counts Services by their worst finding and names the command for the worst one.
    assert "2 LoadBalancer Services: 1 dark, 1 healthy." in result.stdout
    assert result.stdout.rstrip().endswith("Next: akslbctl explain svc/ingress -n default")


def test_wide_adds_address_and_lb_and_drops_them_at_80_columns(lab, monkeypatch):
    lab("multi-service")
    wide = cli("explain", "-A", "-o", "wide")
    assert wide.stdout.splitlines()[0].split() == [
        "NAMESPACE", "NAME", "POLICY", "RULES", "POOL", "UP", "DOWN", "ADDRESS", "LB", "WORST", "FINDING"
    ]  # fmt: skip
    assert "10.224.0.102" in wide.stdout and "kubernetes-internal" in wide.stdout
    monkeypatch.setenv("COLUMNS", "80")
    narrow = cli("explain", "-A", "-o", "wide")
    assert "kubernetes-internal" not in narrow.stdout and "10.224.0.102" in narrow.stdout  # LB goes first
    assert all(len(line) <= 80 for line in narrow.stdout.splitlines())


def test_deadline_bounds_the_whole_run(lab):
    running = lab("multi-service")
    running.add_fault(Fault(api="kube", route="kube.endpointslices.list", hang=True))
    result = cli("explain", "-A", "--deadline", "1")
    assert result.exit_code == 3  # the list hangs for ever: ending at all is the deadline's doing
    assert result.stdout == "" and result.stderr.startswith("error: ")
    assert "deadline" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-A", "svc/web"], "do not name one as well"),
        (["-l", "app=web", "-f", "case.json"], "-f analyses the one Service"),
        (["-A", "--tree"], "--tree draws one Service"),
        (["-l", " "], "-l needs a label selector"),
        (["svc/web", "--tree", "-o", "json"], "--tree draws the table or tree"),
        (["svc/web", "--svg", "-"], "--svg needs a file name"),
    ],
)
def test_usage_errors(args, message):
    result = cli("explain", *args)
    assert result.exit_code == 2
    assert message in result.stderr and result.stdout == ""


# -- pictures ----------------------------------------------------------------------------------------------


def test_tree_frontend_rules_probe_nodes_pods(lab):
    running = lab("multi-service")
    result = cli("explain", "svc/api", "--tree")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Service default/api · externalTrafficPolicy Local · healthCheckNodePort 32100"
    text = result.stdout
    order = [
        text.index("LB kubernetes in MC_rg_aks_westeurope"),
        text.index("frontend "),
        text.index("rule Tcp 443 → 443"),
        text.index("probe Http :32100 /healthz · every 5 s, threshold 2 · 1/3 up"),
    ]
    assert order == sorted(order)
    nodes = running.cluster.nodes
    up_node = nodes[1]["metadata"]["name"]
    at = text.index(f"● {up_node}  up")
    pod_line = next(line for line in lines if "pod default/api-" in line)
    assert text.index(pod_line) > at and pod_line.rstrip().endswith("ready")
    assert sum("pod default/api-" in line for line in lines) == 1  # one endpoint, on node 1


def test_tree_groups_rules_that_share_a_probe(lab):
    b = AksBuilder(name="two-ports-local")
    b.add_service("web", ports=[80, 443], policy="Local", health_check_node_port=32649, endpoints_on=[0])
    lab(b.build())
    result = cli("explain", "svc/web", "--tree")
    assert "rules Tcp 80 → 80, Tcp 443 → 443" in result.stdout
    assert result.stdout.count("probe Http :32649 /healthz") == 1


def test_svg_of_the_table_and_of_the_tree(lab, tmp_path):
    lab("multi-service")
    table_svg = tmp_path / "table.svg"
    result = cli("explain", "svc/web", "--svg", str(table_svg))
    assert result.exit_code == 0
    assert result.stdout.startswith("Service  default/web")  # the table still goes to stdout
    assert f"saved the picture as {table_svg}" in result.stderr
    svg = table_svg.read_text().replace("&#160;", " ")
    assert svg.lstrip().startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "akslbctl explain default/web" in svg and "aks-nodepool1-12345678-vmss000000" in svg
    tree_svg = tmp_path / "tree.svg"
    assert cli("explain", "svc/web", "--tree", "--svg", str(tree_svg)).exit_code == 0
    assert "frontend" in tree_svg.read_text()
    summary_svg = tmp_path / "all.svg"
    assert cli("explain", "-A", "--svg", str(summary_svg)).exit_code == 0
    assert "WORST" in summary_svg.read_text()


def test_svg_into_a_missing_folder_is_refused_before_any_work(lab, tmp_path):
    running = lab("multi-service")
    running.clear_requests()
    result = cli("explain", "svc/web", "--svg", str(tmp_path / "nope" / "x.svg"))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert running.requests == []
