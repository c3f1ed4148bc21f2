"""The one check every ARM request passes before the transport (contract §2): the validated
endpoint's origin only, and reads or rule health only."""

from __future__ import annotations

import pytest

from akslbctl.sources.arm import ForeignRequest, check_request

EP = "https://management.azure.com"
LB = "/subscriptions/s/resourceGroups/mc_rg/providers/Microsoft.Network/loadBalancers"


@pytest.mark.parametrize(
    "method,url",
    [
        ("GET", EP + LB + "?api-version=2024-05-01"),
        ("GET", EP + ":443" + LB + "/kubernetes"),
        ("GET", "HTTPS://Management.Azure.com" + LB),
        ("GET", EP + "/subscriptions/s/providers/Microsoft.Network/locations/westeurope/operationResults/x"),
        ("GET", EP + "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachineScaleSets/v/"
         "networkInterfaces?api-version=1"),
        ("GET", EP + "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachineScaleSets/v/"
         "virtualMachines/3/instanceView?api-version=2024-07-01"),
        ("GET", EP + "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/vm1/instanceView"),
        ("POST", EP + LB + "/kubernetes/loadBalancingRules/r1/health?api-version=2024-05-01"),
    ],
)
def test_reads_and_rule_health_on_the_endpoint_pass(method, url):
    check_request(EP, method, url)


@pytest.mark.parametrize(
    "url,says",
    [
        ("https://evil.example" + LB, "evil.example"),
        ("http://management.azure.com" + LB, "http://management.azure.com"),  # same host, plain http
        ("https://management.azure.com:8443" + LB, ":8443"),
        ("https://management.azure.com.evil.example" + LB, "management.azure.com.evil.example"),
        ("https://user@127.0.0.2" + LB, "127.0.0.2"),
    ],
)
def test_another_origin_is_refused_naming_the_host(url, says):
    with pytest.raises(ForeignRequest) as refused:
        check_request(EP, "GET", url)
    assert says in str(refused.value) and "not sent" in str(refused.value)


@pytest.mark.parametrize(
    "method,path",
    [
        ("PUT", LB + "/kubernetes"),
        ("DELETE", LB + "/kubernetes"),
        ("PATCH", LB + "/kubernetes"),
        ("POST", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachineScaleSets/v/restart"),
        ("POST", LB + "/kubernetes/loadBalancingRules/r1/health/../../../delete"),
        ("GET", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachineScaleSets/v"),
        ("GET", "/providers/Microsoft.Authorization/roleAssignments"),
        ("GET", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/vm1"),
        ("POST", "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/vm1/instanceView"),
        ("POST", LB + "/../loadBalancingRules/r1/health"),
        ("POST", LB + "/x/loadBalancingRules/%2e%2e/health"),
        ("GET", LB + "/../../Microsoft.Compute/virtualMachineScaleSets/v"),
    ],
)
def test_anything_but_a_read_or_rule_health_is_refused(method, path):
    with pytest.raises(ForeignRequest) as refused:
        check_request(EP, method, EP + path)
    assert f"refused to send {method}" in str(refused.value)


def test_a_loopback_endpoint_allows_http_to_itself_only():
    ep = "http://127.0.0.1:8080"
    check_request(ep, "GET", ep + LB)
    for other in ("http://127.0.0.1:8081", "http://127.0.0.2:8080", "https://127.0.0.1:8080"):
        with pytest.raises(ForeignRequest):
            check_request(ep, "GET", other + LB)


def test_an_endpoint_with_a_path_prefix():
    ep = "https://stack.example/arm"
    check_request(ep, "GET", ep + LB)
    with pytest.raises(ForeignRequest):
        check_request(ep, "PUT", ep + LB)
