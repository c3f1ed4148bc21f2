"""The provider's event messages, parsed and classified (contract §5.2), and what node state means.

Real messages from public issues live in ``tests/data/lb_event_samples.json`` (each with its source);
the cases here cover the shapes and edges: both formats, unknown codes kept verbatim, secrets masked,
events.k8s.io/v1 documents, ages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from akslbctl.analysis import events as ev
from akslbctl.analysis.engine import provider_rules
from akslbctl.analysis.poolgaps import node_state, not_a_vm
from akslbctl.model.kube import Event, Node, Service, Taint
from akslbctl.sources import normalize

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "lb_event_samples.json"


def _samples() -> list[dict]:
    if not SAMPLES.exists():
        return []
    return [s for s in json.loads(SAMPLES.read_text(encoding="utf-8")) if "message" in s]


@pytest.mark.parametrize("sample", _samples(), ids=lambda s: f"{s.get('code')}-{s['source'].rsplit('/', 2)[-2:]}")
def test_real_messages_parse_to_their_code_and_status(sample):
    err = ev.parse(sample["message"])
    if sample.get("code") and sample["code"] in sample["message"]:
        if sample["code"] == "invalid_client":  # an AAD answer: its AADSTS number is the code shown
            assert err.code and err.code.startswith("AADSTS"), sample["source"]
        else:
            assert err.code == sample["code"], sample["source"]
    if sample.get("status") and str(sample["status"]) in sample["message"]:
        # Only where the message carries it (some sources give the status beside the message).
        assert err.status == sample["status"], sample["source"]
    cls = ev.classify(err, sample["message"])
    if sample.get("class"):
        assert cls.cls == sample["class"], (sample["source"], cls)
    assert cls.what and cls.fix
    if sample.get("code") == "SubnetIsFull":
        assert cls.cls == ev.ADDRESS_SPACE  # also from ARM's text alone


def test_track1_authorization_failed_names_identity_action_and_scope():
    scope = "/subscriptions/s/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/v/subnets/ilb"
    msg = (
        "Error syncing load balancer: failed to ensure load balancer: Retriable: false, RetryAfter: 0s, "
        "HTTPStatusCode: 403, RawError: Retriable: false, RetryAfter: 0s, HTTPStatusCode: 403, RawError: "
        '{"error":{"code":"AuthorizationFailed","message":"The client \'aaaa\' with object id \'bbbb\' does not '
        "have authorization to perform action 'Microsoft.Network/virtualNetworks/subnets/read' over scope "
        f"'{scope}' or the scope is invalid.\"}}}}"
    )
    err = ev.parse(msg)
    assert (err.status, err.code, err.resource, err.identity) == (403, "AuthorizationFailed", scope, "bbbb")
    assert err.action == "Microsoft.Network/virtualNetworks/subnets/read" and err.retriable is False
    c = ev.classify(err, msg)
    assert c.cls == ev.PERMISSION
    assert "Network Contributor" in c.fix and "subnet ilb of virtual network v in resource group net-rg" in c.fix


def test_track2_body_is_decoded():
    msg = (
        "RESPONSE 400: 400 Bad Request\nERROR CODE: SubnetIsFull\n----\n"
        '{\n  "error": {\n    "code": "SubnetIsFull",\n    "message": "Subnet s1 with address prefix 10.0.0.0/28 '
        'does not have enough capacity for 1 IP addresses."\n  }\n}\n----\n'
    )
    err = ev.parse(msg)
    assert (err.status, err.code) == (400, "SubnetIsFull")
    assert err.message.startswith("Subnet s1") and err.resource == "subnets/s1"
    assert ev.classify(err, msg).cls == ev.ADDRESS_SPACE


def test_autorest_format():
    msg = (
        'StatusCode=400 -- Original Error: Code="InvalidParameter" Message="Required parameter \'requestPath\' '
        'is missing (null)." Target="/subscriptions/x/resourceGroups/mc/providers/Microsoft.Network/loadBalancers/'
        'kubernetes/probes/p1"'
    )
    err = ev.parse(msg)
    assert (err.status, err.code) == (400, "InvalidParameter") and "requestPath" in err.message
    c = ev.classify(err, msg)
    assert c.cls == ev.INVALID and "probe p1 of load balancer kubernetes" in c.what


def test_unknown_code_is_kept_verbatim():
    msg = (
        "RESPONSE 400: 400 Bad Request\nERROR CODE: FrobnicatorOverheated\n"
        '{"error":{"code":"FrobnicatorOverheated","message":"hot"}}'
    )
    c = ev.classify(ev.parse(msg), msg)
    assert c.cls == ev.INVALID and "FrobnicatorOverheated" in c.what  # a 400 of a code we do not know
    msg2 = "something odd happened without any code"
    c2 = ev.classify(ev.parse(msg2), msg2)
    assert c2.cls == ev.UNKNOWN and "something odd happened" in c2.what


def test_unknown_code_without_status_is_unknown_and_named():
    msg = '{"error":{"code":"BrandNewThing","message":"never seen"}}'
    c = ev.classify(ev.parse(msg), msg)
    assert c.cls == ev.UNKNOWN and c.what.startswith("BrandNewThing: ")


def test_secrets_in_messages_are_masked():
    jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQifQ.c2lnbmF0dXJlc2lnbmF0dXJl"
    text = ev.mask(f"Bearer {jwt} and client_secret=hunter2hunter2&x=1")
    assert jwt not in text and "hunter2" not in text and "client_secret=***" in text


def test_authentication_failure_class():
    msg = (
        "azure.BearerAuthorizer#WithAuthorization: Failed to refresh the Token for request: AADSTS7000222: "
        "The provided client secret keys are expired."
    )
    c = ev.classify(ev.parse(msg), msg)
    assert c.cls == ev.AUTHENTICATION and "update-credentials" in c.fix


def test_current_failures_stop_at_the_last_success():
    evs = [
        Event("SyncLoadBalancerFailed", "HTTPStatusCode: 429", "Warning"),
        Event("EnsuredLoadBalancer", "Ensured load balancer"),
        Event("SyncLoadBalancerFailed", "HTTPStatusCode: 403", "Warning"),
    ]
    assert [f.error.status for f in ev.current_failures(evs)] == [429]


def test_ages_as_kubectl_shows_them():
    assert ev.age("2026-01-01T00:00:00Z", "2026-01-01T00:03:10Z") == "3m"
    assert ev.age("2026-01-01T00:00:00Z", "2026-01-01T00:00:42Z") == "42s"
    assert ev.age("2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z") == "2d"
    assert ev.age(None, "2026-01-01T00:00:00Z") is None and ev.age("garbage", "2026-01-01T00:00:00Z") is None


def test_events_k8s_io_v1_shape_normalises():
    doc = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "web.1", "namespace": "default"},
        "regarding": {"kind": "Service", "name": "web", "namespace": "default"},
        "reason": "SyncLoadBalancerFailed",
        "note": "HTTPStatusCode: 403",
        "type": "Warning",
        "series": {"count": 7, "lastObservedTime": "2026-01-01T00:05:00.000000Z"},
        "reportingController": "service-controller",
    }
    e = normalize.event(doc)
    assert (e.reason, e.message, e.count, e.source) == (
        "SyncLoadBalancerFailed",
        "HTTPStatusCode: 403",
        7,
        "service-controller",
    )
    assert e.last_seen == "2026-01-01T00:05:00.000000Z"


def test_provisioning_failed_only_for_pending_services():
    from akslbctl.model.case import Case

    failing = (
        Event(
            "SyncLoadBalancerFailed",
            'HTTPStatusCode: 403, RawError: {"error":{"code":"AuthorizationFailed","message":"m"}}',
            "Warning",
            3,
        ),
    )
    pending = Case(service=Service("default", "web", "u"), nodes=(), endpoints=(), events=failing)
    found, _ = ev.provisioning_findings(pending, has_lb=False)
    assert [(f.code, f.severity) for f in found] == [("provisioning-failed", "error")]
    assert "×3" in found[0].message and "AuthorizationFailed" in found[0].message
    built = Case(
        service=Service("default", "web", "u", ingress_ips=("1.2.3.4",)), nodes=(), endpoints=(), events=failing
    )
    found, _ = ev.provisioning_findings(built, has_lb=True)
    assert [(f.code, f.severity) for f in found] == [("reconcile-failing", "warning")]
    unread = Case(service=Service("default", "web", "u"), nodes=(), endpoints=(), events=None, events_note="403")
    found, notes = ev.provisioning_findings(unread, has_lb=False)
    assert found == [] and notes == ["Service events: 403"]


# -- node state by version (C10) --------------------------------------------------------------------


def _node(**kw) -> Node:
    return Node(
        "n1",
        ("10.0.0.4",),
        "azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/v/virtualMachines/1",
        **kw,
    )


def test_not_ready_stays_in_the_pool_from_1_27():
    text = node_state(_node(ready=False), provider_rules("v1.29.4"), in_pool=True)
    assert "stays in the pool on Kubernetes 1.29" in text and "the probe decides" in text


def test_not_ready_before_1_27_is_a_pool_predicate():
    text = node_state(_node(ready=False), provider_rules("v1.22.4", "v1.22.0"), in_pool=True)
    assert "readiness is a pool predicate" in text or "excludes NotReady" in text


def test_cordon_before_and_after_1_19():
    assert "stays in the pool" in node_state(
        _node(ready=True, unschedulable=True), provider_rules("v1.29.4"), in_pool=True
    )
    old = node_state(_node(ready=True, unschedulable=True), provider_rules("v1.18.20"), in_pool=False)
    assert "< 1.19" in old


def test_autoscaler_taint_and_deletion_are_named():
    n = _node(ready=True, taints=(Taint("ToBeDeletedByClusterAutoscaler"),), deleting=True)
    text = node_state(n, provider_rules("v1.29.4"), in_pool=True)
    assert "deletionTimestamp" in text and "ToBeDeletedByClusterAutoscaler" in text
    assert node_state(_node(ready=True), provider_rules("v1.29.4"), in_pool=True) is None


def test_virtual_kubelet_is_no_vm():
    assert "no providerID" in not_a_vm(Node("vk", labels={"type": "virtual-kubelet"}))
    assert "virtual-kubelet" in not_a_vm(
        Node("vk", provider_id="virtual-kubelet://vk", labels={"type": "virtual-kubelet"})
    )
    assert not_a_vm(_node()) is None


def test_linked_authorization_names_the_refused_action_and_linked_scope():
    sample = next(s for s in _samples() if s["code"] == "LinkedAuthorizationFailed")
    err = ev.parse(sample["message"])
    assert err.status == 403  # the innermost status, not the wrapper's 0
    assert err.action == "Microsoft.Network/virtualNetworks/subnets/join/action"
    assert err.resource.endswith("/subnets/privatek8s-sponsorship-infraci-ctrl-tier")
    assert "subnet privatek8s-sponsorship-infraci-ctrl-tier" in ev.classify(err, sample["message"]).fix


def test_old_in_tree_failure_reasons_count_as_failures():
    sample = next(s for s in _samples() if s.get("reason") == "CreatingLoadBalancerFailed")
    found = ev.failures([Event(sample["reason"], sample["message"], "Warning")])
    assert len(found) == 1 and found[0].error.status == 403
