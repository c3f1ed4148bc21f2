"""What the cloud provider said about the Service: its Events, parsed and classified (contract §5.2).

The provider reports a failed reconcile as a Warning Event on the Service (``SyncLoadBalancerFailed``,
``EnsureLoadBalancerFailed``, ``UpdateLoadBalancerFailed``, ``DeleteLoadBalancerFailed``). Its message
wraps the ARM error in one of two shapes:

- track 1 (go-autorest ``retry.Error``): ``Retriable: false, RetryAfter: 0s, HTTPStatusCode: 403,
  RawError: {"error":{"code":"AuthorizationFailed","message":"…"}}``, older still
  ``StatusCode=400 -- Original Error: Code="InvalidParameter" Message="…"``;
- track 2 (azcore ``ResponseError``): ``RESPONSE 403: 403 Forbidden`` / ``ERROR CODE:
  AuthorizationFailed`` / a dashed line / the JSON body.

:func:`parse` reads either into an :class:`ArmError`; :func:`classify` names the class and its fix.
Pure: no client library, no clock (ages count from ``Case.observed_at``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

from akslbctl.model.case import Case
from akslbctl.model.kube import Event, Service
from akslbctl.model.report import ERROR, WARNING, EventReport, Finding
from akslbctl.records import record

FAILED_REASONS = frozenset(
    {
        "SyncLoadBalancerFailed",
        "EnsureLoadBalancerFailed",
        "UpdateLoadBalancerFailed",
        "DeleteLoadBalancerFailed",
        # the in-tree service controller before Kubernetes 1.14
        "CreatingLoadBalancerFailed",
        "LoadBalancerUpdateFailed",
        "DeletingLoadBalancerFailed",
    }
)
SUCCESS_REASONS = frozenset({"EnsuredLoadBalancer", "UpdatedLoadBalancer"})
LB_REASONS = FAILED_REASONS | SUCCESS_REASONS | {"EnsuringLoadBalancer", "DeletingLoadBalancer", "DeletedLoadBalancer"}

# Classes of failure, each with what fixes it.
PERMISSION = "permission"
AUTHENTICATION = "authentication"
ADDRESS_SPACE = "address-space"
QUOTA = "quota"
MISSING_RESOURCE = "missing-resource"
SKU = "sku-mismatch"
THROTTLING = "throttling"
CONFLICT = "conflict"
INVALID = "invalid-configuration"
NODE_POOL = "backend-pool"
UNKNOWN = "unknown"

PIP_NAME = "service.beta.kubernetes.io/azure-pip-name"
LB_RESOURCE_GROUP = "service.beta.kubernetes.io/azure-load-balancer-resource-group"
INTERNAL_SUBNET = "service.beta.kubernetes.io/azure-load-balancer-internal-subnet"
PIP_PREFIX_ID = "service.beta.kubernetes.io/azure-pip-prefix-id"


@record(frozen=True)
class ArmError:
    """The ARM error an event message carries (every field may be missing)."""

    status: int | None = None
    code: str | None = None
    message: str | None = None  # ARM's own message
    resource: str | None = None  # the resource id (or name) the error concerns
    action: str | None = None  # AuthorizationFailed: the action that was refused
    identity: str | None = None  # AuthorizationFailed: the client / object id that was refused
    retriable: bool | None = None
    retry_after: str | None = None  # track 1: "0s", "5m0s"


@record(frozen=True)
class Classified:
    cls: str
    what: str  # one line: what went wrong, in the operator's words
    fix: str  # one line: what fixes it


# -- parsing --------------------------------------------------------------------------------------

_TRACK2_STATUS = re.compile(r"RESPONSE\s+(\d{3})\b")
_TRACK2_CODE = re.compile(r"ERROR CODE:\s*([A-Za-z][\w.]*)")
_TRACK1_STATUS = re.compile(r"HTTPStatusCode:\s*(\d{3})\b")
_AUTOREST_STATUS = re.compile(r"StatusCode=(\d{3})\b")
_AUTOREST_CODE = re.compile(r'Code=\\*"([A-Za-z][\w.]*)\\*"')
_AUTOREST_MESSAGE = re.compile(r'Message="((?:[^"\\]|\\.)*)"')
_JSON_CODE = re.compile(r'\\*"[Cc]ode\\*"\s*:\s*\\*"([A-Za-z][\w.]*)\\*"')
_JSON_MESSAGE = re.compile(r'"message"\s*:\s*"((?:[^"\\]|\\.)*)"')
_RETRIABLE = re.compile(r"Retriable:\s*(true|false)")
_RETRY_AFTER = re.compile(r"RetryAfter:\s*([\w.]+)")
_LINKED = re.compile(
    r"does not have permission to perform action(?:\(s\))? '([^']+)' on the linked scope(?:\(s\))? '([^']+)'"
)
_SCOPE = re.compile(r"over scope '([^']+)'")
_ACTION = re.compile(r"perform action '([^']+)'")
_CLIENT = re.compile(r"client '([^']+)'(?: with object id '([^']+)')?")
_ARM_ID = re.compile(r"/subscriptions/[^\s'\"]+?/resourceGroups/[^\s'\",]+(?:/providers/[^\s'\",]+)?", re.IGNORECASE)
_RESOURCE_UNDER = re.compile(r"The Resource '([^']+)' under resource group '([^']+)'")
_SUBNET_NAMED = re.compile(r"\bSubnet ([\w.\-]+) with address prefix")
_AADSTS = re.compile(r"\bAADSTS(\d{5,})\b")
_JWT = re.compile(r"\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")
_SECRET_FIELD = re.compile(r"(?i)\b(client_secret|access_token|refresh_token|password|token)=([^&\s\"']+)")


def mask(text: str) -> str:
    """An event message as it may be shown: bearer tokens and secret query fields masked."""
    text = _JWT.sub("***", text)
    return _SECRET_FIELD.sub(lambda m: f"{m.group(1)}=***", text)


def parse(message: str) -> ArmError:
    """The ARM error of one provider message, in any of the known shapes (fields None when absent)."""
    status = None
    for pattern in (_TRACK2_STATUS, _TRACK1_STATUS, _AUTOREST_STATUS):
        found = pattern.findall(message)
        if found:
            # track 1 repeats the wrapper around the raw error: the innermost (last) one is ARM's.
            status = int(found[-1])
            break
    code = None
    m = _TRACK2_CODE.search(message) or _AUTOREST_CODE.search(message)
    if m:
        code = m.group(1)
    arm_message = None
    body = _json_error(message)
    if body is not None:
        code = code or body[0]
        arm_message = body[1]
    if code is None:
        m = _JSON_CODE.search(message)
        code = m.group(1) if m else None
    if arm_message is None:
        m = _JSON_MESSAGE.search(message) or _AUTOREST_MESSAGE.search(message)
        if m:
            arm_message = _unescape(m.group(1))
    if code is None and _AADSTS.search(message):
        code = "AADSTS" + _AADSTS.search(message).group(1)
    text = arm_message or message
    linked = _LINKED.search(text) or _LINKED.search(message)
    scope = _SCOPE.search(text) or _SCOPE.search(message)
    resource = linked.group(2) if linked else (scope.group(1) if scope else None)
    if resource is None:
        ids = _ARM_ID.findall(text) or _ARM_ID.findall(message)
        resource = ids[0].rstrip(".") if ids else None
    if resource is None:
        m = _RESOURCE_UNDER.search(text)
        if m:
            resource = f"/resourceGroups/{m.group(2)}/providers/{m.group(1)}"
    if resource is None:
        m = _SUBNET_NAMED.search(text)
        resource = f"subnets/{m.group(1)}" if m else None
    action = linked or _ACTION.search(text)
    client = _CLIENT.search(text)
    retriable = _RETRIABLE.findall(message)
    retry_after = _RETRY_AFTER.findall(message)
    return ArmError(
        status=status,
        code=code,
        message=arm_message,
        resource=resource,
        action=action.group(1) if action else None,
        identity=(client.group(2) or client.group(1)) if client else None,
        retriable=(retriable[-1] == "true") if retriable else None,
        retry_after=retry_after[-1] if retry_after else None,
    )


def _json_error(message: str) -> tuple[str | None, str | None] | None:
    """``{"error": {"code", "message"}}`` anywhere in the message, decoded properly."""
    start = message.find('{"error"')
    if start < 0:
        start = message.find("{\n")
    while start >= 0:
        try:
            doc, _ = json.JSONDecoder().raw_decode(message[start:])
        except ValueError:
            start = message.find("{", start + 1)
            continue
        err = doc.get("error") if isinstance(doc, dict) else None
        if isinstance(err, dict):
            code = err.get("code")
            msg = err.get("message")
            return (code if isinstance(code, str) else None, msg if isinstance(msg, str) else None)
        start = message.find("{", start + 1)
    return None


def _unescape(text: str) -> str:
    try:
        return json.loads(f'"{text}"')
    except ValueError:
        return text


# -- classification -------------------------------------------------------------------------------


def resource_words(resource_id: str | None) -> str | None:
    """``subnet ilb-subnet of virtual network vnet in resource group net-rg`` from an ARM id."""
    if not resource_id:
        return None
    parts = [p for p in resource_id.split("/") if p]
    low = [p.lower() for p in parts]
    rg = (
        parts[low.index("resourcegroups") + 1]
        if "resourcegroups" in low and low.index("resourcegroups") + 1 < len(parts)
        else None
    )
    kinds = {
        "subnets": "subnet",
        "virtualnetworks": "virtual network",
        "publicipaddresses": "public IP",
        "publicipprefixes": "public IP prefix",
        "loadbalancers": "load balancer",
        "networksecuritygroups": "network security group",
        "networkinterfaces": "network interface",
        "virtualmachinescalesets": "scale set",
        "virtualmachines": "VM",
        "privatelinkservices": "private link service",
        "probes": "probe",
        "loadbalancingrules": "rule",
        "frontendipconfigurations": "frontend",
    }
    named = []
    for i, p in enumerate(low):
        if p in kinds and i + 1 < len(parts):
            named.append(f"{kinds[p]} {parts[i + 1]}")
    if not named:
        return f"resource group {rg}" if rg else resource_id
    where = " of ".join(reversed(named[-2:]))
    return f"{where} in resource group {rg}" if rg else where


def _role_for(action: str | None) -> str:
    if action and action.lower().startswith("microsoft.network/"):
        return "Network Contributor"
    return "a role with that action (Network Contributor for network objects)"


def classify(err: ArmError, raw: str, service: Service | None = None) -> Classified:
    """The class of a provider failure and what fixes it. Unknown codes keep their text."""
    code = (err.code or "").strip()
    low = code.lower()
    text = (err.message or raw).lower()
    annotations = service.annotations if service is not None else {}
    where = resource_words(err.resource)
    on = f" on {where}" if where else ""
    if low in ("authorizationfailed", "linkedauthorizationfailed") or (err.status == 403 and not code):
        who = (
            f"the cluster identity {err.identity}"
            if err.identity
            else "the cluster identity (its service principal or managed identity)"
        )
        action = f" ({err.action})" if err.action else ""
        scope = f"on {where}" if where else "on the resource named in the message"
        linked = (
            " — a linked resource (the subnet, a public IP, an NSG) is refused"
            if low == "linkedauthorizationfailed"
            else ""
        )
        return Classified(
            PERMISSION,
            f"{code or '403'}: the provider may not act{action}{on}{linked}",
            f"grant {who} {_role_for(err.action)} {scope}",
        )
    if (
        err.status == 401
        or low.startswith("aadsts")
        or low in ("invalidauthenticationtoken", "invalidauthenticationtokentenant", "expiredauthenticationtoken")
        or "failed to refresh the token" in text
        or "client secret keys are expired" in text
    ):
        return Classified(
            AUTHENTICATION,
            f"{code or '401'}: the provider cannot authenticate to Azure",
            "renew the cluster's credentials (az aks update-credentials --reset-service-principal, or check its "
            "managed identity)",
        )
    if (
        low in ("subnetisfull", "insufficientfreeaddresses")
        or "subnet is full" in text
        or ("subnet" in text and "does not have enough capacity" in text)
    ):
        return Classified(
            ADDRESS_SPACE,
            f"{code or 'SubnetIsFull'}: no free address{on or ' in the subnet'}",
            f"free addresses in the subnet, or put the internal LB in another subnet ({INTERNAL_SUBNET})",
        )
    if low in (
        "privateipaddressinuse",
        "privateipaddressnotinsubnet",
        "privateipaddressisallocated",
        "ipaddressnotavailable",
    ):
        ip = service.load_balancer_ip if service is not None else None
        return Classified(
            ADDRESS_SPACE,
            f"{code}: the requested private address{f' {ip}' if ip else ''} cannot be used{on}",
            "choose a free address of the subnet for the Service (spec.loadBalancerIP / "
            "azure-load-balancer-ipv4), or leave it to the provider",
        )
    if "quota" in low or low.endswith("limitreached") or low.endswith("limitexceeded") or "quota" in text:
        return Classified(
            QUOTA,
            f"{code}: a subscription limit is reached{on}",
            "delete unused resources of that kind (az network public-ip list) or ask for a higher quota",
        )
    if "sku" in low or ("sku" in text and ("basic" in text and "standard" in text)):
        return Classified(
            SKU,
            f"{code or err.status}: Basic and Standard SKUs are mixed{on}",
            "use a public IP of the load balancer's SKU (Standard with a Standard LB), e.g. az network public-ip "
            "create --sku Standard",
        )
    if err.status == 429 or low in ("toomanyrequests", "subscriptionrequeststhrottled") or "throttl" in text:
        after = f" (retry after {err.retry_after})" if err.retry_after and err.retry_after != "0s" else ""
        return Classified(
            THROTTLING,
            f"{code or '429'}: ARM throttles the provider's requests{after}",
            "wait: the provider retries; find what else calls ARM heavily in this subscription",
        )
    if err.status == 412 or low in ("preconditionfailed", "anotheroperationinprogress", "conflict", "retryableerror"):
        return Classified(
            CONFLICT,
            f"{code or err.status}: another change to the same resource was in flight",
            "usually transient: the provider retries at its next reconcile",
        )
    missing = _missing_resource(low, text, err, annotations)
    if missing is not None:
        return missing
    if (
        "not a vmss instance" in text
        or "ensure host in pool" in text
        or "ensurehostinpool" in text
        or "instance not found" in text
    ):
        return Classified(
            NODE_POOL,
            f"{code or 'backend pool'}: the provider could not put a node in the backend pool",
            "see the pool gaps per node below; nodes that are not VMs/VMSS instances need the exclude label",
        )
    if (
        err.status == 400
        or low in ("invalidparameter", "invalidresourcereference", "invalidrequestformat")
        or low.startswith("invalid")
        or low.startswith("rules")
    ):
        return Classified(
            INVALID,
            f"{code or '400'}: ARM rejects the probe or rule the provider built{on}",
            "fix the Service's probe/rule annotations (see annotation findings) — or upgrade an old cloud provider",
        )
    shown = code or (f"HTTP {err.status}" if err.status else "no ARM error code")
    return Classified(
        UNKNOWN, f"{shown}: {_short(err.message or raw)}", "read the message; this class is not known to akslbctl"
    )


def _missing_resource(low: str, text: str, err: ArmError, annotations) -> Classified | None:
    named = None
    kind = (err.resource or "").lower()
    if "/publicipaddresses/" in kind and PIP_NAME in annotations:
        named = PIP_NAME
    elif "/subnets/" in kind and INTERNAL_SUBNET in annotations:
        named = INTERNAL_SUBNET
    elif (
        "user supplied ip address" in text
        or ("public ip" in text and "not found" in text)
        or "cannot find public ip" in text
    ):
        named = PIP_NAME if PIP_NAME in annotations else "spec.loadBalancerIP"
    elif "subnet" in text and ("not found" in text or "notfound" in low):
        named = INTERNAL_SUBNET
    elif low == "resourcegroupnotfound":
        named = LB_RESOURCE_GROUP if LB_RESOURCE_GROUP in annotations else None
    elif low not in ("resourcenotfound", "notfound", "invalidresourcereference") and "not found" not in text:
        return None
    if low == "invalidresourcereference" and named is None:
        return None
    value = annotations.get(named) if named else None
    by = f" named by {named}" + (f"={value}" if value else "") if named else ""
    where = resource_words(err.resource)
    return Classified(
        MISSING_RESOURCE,
        f"{err.code or 'not found'}: a resource{by} does not exist" + (f" ({where})" if where else ""),
        f"create it, or correct the annotation (name and resource group: {LB_RESOURCE_GROUP.rsplit('/', 1)[1]})",
    )


def _short(text: str, limit: int = 200) -> str:
    one = " ".join(mask(text).split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


# -- the Service's story --------------------------------------------------------------------------


@record(frozen=True)
class Failure:
    """One failure event, parsed."""

    event: Event
    error: ArmError
    classified: Classified


def failures(events: Iterable[Event], service: Service | None = None) -> list[Failure]:
    """The provider's failure events, newest first (the order of ``events``)."""
    out = []
    for e in events:
        if e.reason in FAILED_REASONS:
            err = parse(e.message)
            out.append(Failure(e, err, classify(err, e.message, service)))
    return out


def current_failures(events: Sequence[Event], service: Service | None = None) -> list[Failure]:
    """Failures newer than the provider's last success (the reconcile that is failing now)."""
    newer: list[Event] = []
    for e in events:
        if e.reason in SUCCESS_REASONS:
            break
        newer.append(e)
    return failures(newer, service)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def age(value: str | None, now: str | None) -> str | None:
    """``3m``, ``2h``, ``5d`` as kubectl shows ages; None when either time is unknown."""
    t, n = parse_time(value), parse_time(now)
    if t is None or n is None:
        return None
    seconds = max(0, int((n - t).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def newest_first(events: Iterable[Event]) -> list[Event]:
    return sorted(
        events, key=lambda e: parse_time(e.last_seen) or datetime.min.replace(tzinfo=timezone.utc), reverse=True
    )


# -- findings -------------------------------------------------------------------------------------

PROTOCOL_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-health-probe-protocol"


def legacy_local_protocol_trap(service: Service, legacy_probes: bool, provider_name: str) -> Finding | None:
    """C05: on CCM ≤ v1.23.3 the global probe-protocol annotation also shaped the Local probe (ARM 400).

    Source: kubernetes/kubernetes#102803; current providers ignore the global protocol for Local.
    """
    value = service.annotations.get(PROTOCOL_ANNOTATION)
    if not (legacy_probes and service.is_local and value is not None):
        return None
    return Finding(
        "annotation-invalid",
        WARNING,
        f"{PROTOCOL_ANNOTATION.rsplit('/', 1)[1]}: {value} with externalTrafficPolicy: Local breaks cloud "
        f"providers up to v1.23.3 ({provider_name}): the Local probe takes that protocol and ARM may reject it "
        "(400); remove the annotation or upgrade",
    )


def provisioning_findings(case: Case, *, has_lb: bool) -> tuple[list[Finding], list[str]]:
    """``provisioning-failed`` / ``reconcile-failing`` from the Service's Events, and notes (§5.2).

    Pending (no LB objects or no ingress IP) with a failure newer than the last success is
    ``provisioning-failed`` (error); a built Service whose last reconcile failed is
    ``reconcile-failing`` (warning): the LB stays as it was until the provider succeeds.
    """
    notes = []
    if case.events_note:
        notes.append(f"Service events: {case.events_note}")
    if case.events is None:
        return [], notes
    service = case.service
    current = current_failures(case.events, service)  # Case.events is newest first
    if not current:
        return [], notes
    pending = not has_lb or not service.ingress_ips
    groups: dict[tuple[str, str | None, str | None], list[Failure]] = {}
    for f in current:
        groups.setdefault((f.classified.cls, f.error.code, f.error.resource), []).append(f)
    findings = []
    for i, same in enumerate(groups.values()):
        newest = same[0]
        count = sum(f.event.count for f in same)
        e = newest.event
        a = age(e.last_seen, case.observed_at)
        times = f"×{count}" if count > 1 else "once"
        seen = f"last {a} ago, {times}" if a else (f"last at {e.last_seen}, {times}" if e.last_seen else times)
        status = f"HTTP {newest.error.status}, " if newest.error.status else ""
        head = "no ingress IP: " if pending and i == 0 and not service.ingress_ips else ""
        text = (
            f"{head}{e.reason} ({seen}): {status}{newest.classified.what}. Class: {newest.classified.cls}. "
            f"Fix: {newest.classified.fix}"
        )
        if newest.classified.cls == UNKNOWN:
            text += f". Message: {_short(e.message, 400)}"
        if pending:
            findings.append(Finding("provisioning-failed", ERROR, text))
        else:
            findings.append(
                Finding(
                    "reconcile-failing",
                    WARNING,
                    text + " — the load balancer stays as it was until a reconcile succeeds",
                )
            )
    return findings, notes


def silence(case: Case) -> str | None:
    """For a Service with no LB objects: what the absence of provider events says (None: not read)."""
    if case.events is None:
        return None
    if any(e.reason in LB_REASONS for e in case.events):
        return None
    return (
        "the cloud provider has reported nothing on this Service (no LoadBalancer event at all): it may not be "
        "able to authenticate to Azure (an expired service principal secret, a missing managed identity), or "
        "it does not run"
    )


MAX_SHOWN = 20


def event_reports(case: Case) -> tuple[EventReport, ...] | None:
    """The Service's newest events (at most ``MAX_SHOWN``), masked, failures parsed."""
    if case.events is None:
        return None
    out = []
    for e in case.events[:MAX_SHOWN]:
        err = cls = None
        if e.reason in FAILED_REASONS:
            err = parse(e.message)
            cls = classify(err, e.message, case.service).cls
        out.append(
            EventReport(
                reason=e.reason,
                type=e.type,
                count=e.count,
                last_seen=e.last_seen,
                message=mask(e.message),
                status=err.status if err else None,
                code=err.code if err else None,
                resource=err.resource if err else None,
                cls=cls,
            )
        )
    return tuple(out)
