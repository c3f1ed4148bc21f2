"""ARM source: load balancers, public IPs, NICs, the network path (NSGs, subnets, VNets, Private Link
Services) and rule health, over the Azure SDK's ARM pipeline (azure-mgmt-core, what azure-mgmt-network
is built on) as raw JSON.

Raw, because the SDK's part costs more than it gives here: importing azure-mgmt-network and building
its client take ~0.6 s (its ~900 operation groups and models), and its model deserialisation of a
5,000-member load balancer another second — for documents that the normaliser reads as plain JSON
anyway. The requests are the ones azure-mgmt-network sends (same paths, same api-version, the same
long-running-operation poller for rule health); every answer body is read by one function,
:func:`_document`.

Credentials: ``AKSLBCTL_ARM_TOKEN`` when set (a bearer token pasted from ``az account
get-access-token``), else ``DefaultAzureCredential`` (az login, managed/workload identity, …).
The endpoint must be https, except on a loopback host (local emulators, the lab).

Read-only: the pipeline is assembled here without azure-mgmt-core's automatic resource-provider
registration (it would POST a registration on a 409), and the only non-GET request ever sent is the
rule-health POST, which changes nothing.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import os
import re
import time
import types
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from akslbctl import __version__
from akslbctl.errors import AuthError, EvidenceError, Forbidden, MalformedAnswer, Unreachable, UsageError
from akslbctl.logs import quiet_root
from akslbctl.records import record

log = logging.getLogger("akslbctl.arm")
quiet_root()  # azure-identity and the SDK warn through the root logger

DEFAULT_ENDPOINT = "https://management.azure.com"
MAX_RETRY_AFTER = 10.0  # seconds we are willing to wait when ARM throttles


COMPUTE_API_VERSION = "2024-07-01"
NETWORK_API_VERSION = "2026-03-01"  # what azure-mgmt-network 33 sends for every Microsoft.Network call
VMSS_NIC_API_VERSION = "2018-10-01"  # the scale-set NIC lists are served under this version only


@record(frozen=True)
class ArmOptions:
    subscription: str | None = None
    resource_group: str | None = None
    endpoint: str | None = None  # --arm-endpoint; else AKSLBCTL_ARM_ENDPOINT; else management.azure.com
    timeout: float = 30.0
    deadline: Any = None  # akslbctl.deadline.Deadline: requests, retries and waits end before it


def resolve_endpoint(flag: str | None, environ: dict[str, str] | None = None) -> str:
    """The ARM endpoint, validated: https, or http on a loopback host only (contract §2)."""
    env = os.environ if environ is None else environ
    url = (flag or env.get("AKSLBCTL_ARM_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 (an IPv6 literal without its "]" fails here)
    except ValueError as exc:
        raise UsageError(f"ARM endpoint {url!r} is not a usable URL ({exc})") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"ARM endpoint {url!r} is not an http(s) URL")
    from akslbctl.sources.bounded import url_port_problem

    problem = url_port_problem(url)
    if problem:
        raise UsageError(f"ARM endpoint {url!r} {problem}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(f"ARM endpoint {url} must use https (plain http is accepted only on a loopback host)")
    return url


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ArmSource:
    def __init__(
        self,
        subscription: str,
        endpoint: str,
        *,
        timeout: float = 30.0,
        token: str | None = None,
        deadline: Any = None,
    ) -> None:
        self.subscription = subscription
        self.endpoint = endpoint
        if deadline is not None:
            timeout = deadline.bound(timeout)
        self.timeout = timeout
        self._token = token if token is not None else os.environ.get("AKSLBCTL_ARM_TOKEN") or None
        self._client = _client(subscription, endpoint, self._token, timeout, deadline)

    def secrets(self) -> list[str]:
        return [self._token] if self._token else []

    # -- reads --------------------------------------------------------------------------------

    def load_balancers(self, resource_group: str) -> list[dict[str, Any]]:
        return self._call(
            f"list load balancers in resource group {resource_group}",
            lambda: self._list(self._network(resource_group, "loadBalancers"), "load balancers"),
            resource_group=resource_group,
        )

    def public_ips(self, resource_group: str) -> list[dict[str, Any]]:
        return self._call(
            f"list public IPs in resource group {resource_group}",
            lambda: self._list(self._network(resource_group, "publicIPAddresses"), "public IPs"),
            resource_group=resource_group,
        )

    def public_ip(self, resource_id: str) -> dict[str, Any] | None:
        rg, name = _rg_and_name(resource_id, "publicipaddresses")
        if not rg or not name:
            return None
        return self._call(
            f"read public IP {name}",
            lambda: self._get(self._network(rg, "publicIPAddresses", name)),
            missing_ok=True,
            resource_group=rg,
        )

    def network_interface(self, resource_id: str) -> dict[str, Any] | None:
        rg, name = _rg_and_name(resource_id, "networkinterfaces")
        if not rg or not name:
            return None
        return self._call(
            f"read network interface {name}",
            lambda: self._get(self._network(rg, "networkInterfaces", name)),
            missing_ok=True,
            resource_group=rg,
        )

    # The network path in front of the nodes. Its objects may live in any resource group (a BYO
    # VNet, a custom NSG); a 403 on any of them raises :class:`Forbidden`, which callers may turn
    # into a note instead of failing the command (the load balancer itself was readable).

    def vmss_network_interfaces(self, resource_group: str, vmss: str) -> list[dict[str, Any]]:
        """The NICs of every instance of a VMSS (Uniform), as documents.

        Raises :class:`Forbidden` on a 403, :class:`EvidenceError` when the scale set is not there.
        """
        path = (
            f"{self._group(resource_group)}/providers/Microsoft.Compute/virtualMachineScaleSets/"
            f"{_seg(vmss)}/networkInterfaces"
        )
        return self._call(
            f"list network interfaces of scale set {vmss}",
            lambda: self._list(path, f"network interfaces of scale set {vmss}", api_version=VMSS_NIC_API_VERSION),
            resource_group=resource_group,
        )

    def virtual_network(self, resource_id: str) -> dict[str, Any] | None:
        """A virtual network with its subnets and peerings; None when it (or a readable id) is not there.

        Raises :class:`Forbidden` on a 403.
        """
        rg, name = _rg_and_name(resource_id, "virtualnetworks")
        if not rg or not name:
            return None
        return self._call(
            f"read virtual network {name}",
            lambda: self._get(self._network(rg, "virtualNetworks", name, subscription=_subscription_of(resource_id))),
            missing_ok=True,
            resource_group=rg,
        )

    def subnet(self, resource_id: str) -> dict[str, Any] | None:
        """One subnet (``…/virtualNetworks/V/subnets/S``); None when it is not there.

        Raises :class:`Forbidden` on a 403.
        """
        rg, vnet, name = _rg_and_name(resource_id, "virtualnetworks", "subnets")
        if not rg or not vnet or not name:
            return None
        return self._call(
            f"read subnet {vnet}/{name}",
            lambda: self._get(
                self._network(rg, "virtualNetworks", vnet, "subnets", name, subscription=_subscription_of(resource_id))
            ),
            missing_ok=True,
            resource_group=rg,
        )

    def security_group(self, resource_id: str) -> dict[str, Any] | None:
        """A network security group with its rules and default rules; None when it is not there.

        Raises :class:`Forbidden` on a 403.
        """
        rg, name = _rg_and_name(resource_id, "networksecuritygroups")
        if not rg or not name:
            return None
        return self._call(
            f"read network security group {name}",
            lambda: self._get(
                self._network(rg, "networkSecurityGroups", name, subscription=_subscription_of(resource_id))
            ),
            missing_ok=True,
            resource_group=rg,
        )

    def instance_view(self, vm_id: str) -> dict[str, Any] | None:
        """A VM's or VMSS instance's instance view as ``{"id": vm_id, "statuses": [...]}`` (None: no VM).

        A plain GET through the network client's pipeline (same credential, retries and policies);
        Microsoft.Compute needs no SDK of its own for this. Raises :class:`Forbidden` on a 403.
        """
        path = "/" + vm_id.strip().strip("/")
        if "/providers/microsoft.compute/" not in path.lower() or "/virtualmachines/" not in path.lower():
            return None

        def get() -> dict[str, Any] | None:
            doc = self._get(f"{path}/instanceView", api_version=COMPUTE_API_VERSION)
            statuses = doc.get("statuses")
            return {"id": vm_id, "statuses": statuses if isinstance(statuses, list) else []}

        return self._call(f"read the instance view of {vm_id.rstrip('/').rsplit('/', 1)[-1]}", get, missing_ok=True)

    def private_link_services(self, resource_group: str) -> list[dict[str, Any]]:
        """Every Private Link Service of a resource group. Raises :class:`Forbidden` on a 403."""
        return self._call(
            f"list private link services in resource group {resource_group}",
            lambda: self._list(self._network(resource_group, "privateLinkServices"), "private link services"),
            resource_group=resource_group,
        )

    def rule_health(self, resource_group: str, lb: str, rule: str, *, wait: float = 30.0) -> dict[str, Any]:
        """Azure's per-backend verdict for one rule (a long-running POST that changes nothing).

        Raises :class:`RuleHealthUnavailable` with a one-line reason when ARM will not tell.
        """
        from azure.core.exceptions import AzureError, HttpResponseError

        try:
            poller = self._begin_health(resource_group, lb, rule)
            result = poller.result(timeout=wait)
            if not poller.done() or result is None:
                raise RuleHealthUnavailable(f"ARM did not finish the rule-health operation within {wait:.0f} s")
            if not isinstance(result, dict):
                raise RuleHealthUnavailable("rule-health operation failed (its result is not a JSON object)")
            return result
        except RuleHealthUnavailable:
            raise
        except HttpResponseError as exc:
            status = getattr(exc, "status_code", None)
            code = _error_code(exc)
            if status == 403:
                raise RuleHealthUnavailable(
                    f"missing permission for the rule-health operation ({code or '403 Forbidden'})"
                ) from None
            if status is not None and 300 <= status < 400:
                why = f"ARM redirected the rule-health operation ({_redirect(exc)}): not followed"
                raise RuleHealthUnavailable(why) from None
            if status in (400, 404):
                raise RuleHealthUnavailable(
                    f"ARM does not offer the rule-health operation here ({code or status})"
                ) from None
            raise RuleHealthUnavailable(f"rule-health operation failed ({code or status})") from None
        except AzureError as exc:
            raise RuleHealthUnavailable(f"rule-health operation failed: {_one_line(exc)}") from None
        except MalformedAnswer as exc:  # an answer past the bounds, cut short, …
            raise RuleHealthUnavailable(f"rule-health operation failed: {exc}") from None

    def close(self) -> None:
        self._client.close()

    # -- transport: the requests azure-mgmt-network would send, answers as raw JSON ----------------

    def _group(self, resource_group: str, subscription: str | None = None) -> str:
        return f"/subscriptions/{_seg(subscription or self.subscription)}/resourceGroups/{_seg(resource_group)}"

    def _network(self, resource_group: str, kind: str, *names: str, subscription: str | None = None) -> str:
        """``…/providers/Microsoft.Network/KIND[/NAME[/SUBKIND/NAME…]]`` (names quoted as the SDK does).

        ``subscription``: the one an id names (a hub VNet, its subnet NSG); default the cluster's."""
        rest = "".join(f"/{_seg(n)}" if i % 2 == 0 else f"/{n}" for i, n in enumerate(names))
        return f"{self._group(resource_group, subscription)}/providers/Microsoft.Network/{kind}{rest}"

    def _send(self, method: str, url: str, api_version: str) -> Any:
        """One request through the pipeline (guard, retries, token), as the SDK's operations send it;
        the pipeline response, its body not read yet (:func:`_document` reads it).

        ``url`` is a path below the endpoint or, for a ``nextLink``, a full URL: its api-version is
        set as the SDK sets it on a next page (the request guard judges the origin either way).
        """
        from urllib.parse import parse_qsl, urlencode

        from azure.core.rest import HttpRequest

        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "api-version"]
        query.append(("api-version", api_version))
        target = parts._replace(query=urlencode(query)).geturl()
        if not parts.scheme:
            target = self.endpoint + target
        return self._client._pipeline.run(HttpRequest(method, target), stream=True)

    def _get(self, url: str, *, api_version: str = NETWORK_API_VERSION) -> dict[str, Any]:
        response = self._send("GET", url, api_version).http_response
        _raise_for_status(response, (200,))
        doc = _document(response)
        if not isinstance(doc, dict):
            raise TypeError("the answer is not a JSON object")
        return doc

    def _list(self, url: str, what: str, *, api_version: str = NETWORK_API_VERSION) -> list[dict[str, Any]]:
        """Every item of a paged ARM list; an endless list is a malformed answer.

        ARM hands out a ``nextLink`` while there is more: a server that links a page to itself (or to
        an earlier page) is a malformed answer, and one that keeps handing out new links is cut at the
        list bounds of :mod:`akslbctl.sources.bounded` (pages, items, bytes).
        """
        from akslbctl.sources import bounded

        seen: set[str] = set()
        items: list[dict[str, Any]] = []
        budget = bounded.ListBudget(f"ARM's list of {what}")  # one that keeps handing out new links is cut
        before = bounded.tally()
        while True:
            doc = self._get(url, api_version=api_version)
            value = doc.get("value", [])
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                raise TypeError(f"the list of {what} is not a list of objects")
            now = bounded.tally()
            budget.page(len(value), now - before)
            before = now
            items.extend(value)
            link = doc.get("nextLink")
            if not link:
                return items
            if not isinstance(link, str):
                raise TypeError("nextLink is not a string")
            if link in seen:
                raise MalformedAnswer(f"ARM's list of {what} never ends (its pages link back to one already read)")
            seen.add(link)
            url = link

    def _begin_health(self, resource_group: str, lb: str, rule: str) -> Any:
        """The rule-health POST and its poller, as azure-mgmt-network's ``begin_health`` builds them
        (same request, same ARM polling of ``Location`` / ``Azure-AsyncOperation``), the final result
        as raw JSON."""
        from azure.core.polling import LROPoller
        from azure.mgmt.core.polling.arm_polling import ARMPolling

        path = self._network(resource_group, "loadBalancers", lb, "loadBalancingRules", rule) + "/health"
        initial = self._send("POST", path, NETWORK_API_VERSION)
        _raise_for_status(initial.http_response, (200, 202))
        initial.http_response.read()  # the poller reads the headers and, for a 200, this body

        def final(pipeline_response) -> Any:
            return _document(pipeline_response.http_response)

        return LROPoller(self._client, initial, final, ARMPolling(1, path_format_arguments={"endpoint": self.endpoint}))

    # -- error mapping ------------------------------------------------------------------------

    def _call(
        self, what: str, fn: Callable[[], Any], *, missing_ok: bool = False, resource_group: str | None = None
    ) -> Any:
        from azure.core.exceptions import (
            ClientAuthenticationError,
            DecodeError,
            HttpResponseError,
            ResourceNotFoundError,
            ServiceRequestError,
            ServiceResponseError,
        )

        try:
            return fn()
        except ClientAuthenticationError as exc:
            status = getattr(exc, "status_code", None)
            if status == 401 or getattr(exc, "response", None) is not None:
                raise AuthError(
                    f"ARM rejected the credentials ({_error_code(exc) or '401 Unauthorized'})",
                    hint="run 'az login' (or refresh AKSLBCTL_ARM_TOKEN) for the cluster's tenant",
                ) from None
            raise AuthError(
                "no Azure credential is available",
                hint="run 'az login', or set AKSLBCTL_ARM_TOKEN to the output of "
                "'az account get-access-token --query accessToken -o tsv'",
            ) from None
        except ResourceNotFoundError as exc:
            if missing_ok:
                return None
            code = _error_code(exc)
            raise EvidenceError(
                f"ARM could not {what}: {code or 'not found'}",
                hint=f"check --subscription {self.subscription} and -g {resource_group or '?'}",
            ) from None
        except HttpResponseError as exc:
            status = getattr(exc, "status_code", None)
            code = _error_code(exc)
            if status == 403:
                raise Forbidden(
                    f"ARM refused to {what} ({code or '403 Forbidden'})",
                    hint=f"akslbctl needs Reader on resource group {resource_group or '?'}",
                ) from None
            if status is not None and 300 <= status < 400:
                raise EvidenceError(
                    f"ARM answered '{what}' with a redirect ({_redirect(exc)}), which akslbctl does not follow",
                    hint="check --arm-endpoint / AKSLBCTL_ARM_ENDPOINT and any proxy in between",
                ) from None
            if status == 429:
                after = _retry_after(exc)
                raise EvidenceError(
                    f"ARM is throttling requests ({code or '429'})",
                    hint=f"ARM asks to wait {after:.0f} s; try again then" if after else "try again in a minute",
                ) from None
            raise EvidenceError(f"ARM could not {what}: {code or status}") from None
        except DecodeError:
            raise MalformedAnswer(f"ARM answered '{what}' with something that is not JSON") from None
        except (ServiceRequestError, ServiceResponseError) as exc:
            from akslbctl.sources.bounded import tls_problem

            text = _one_line(exc)
            tls = tls_problem(text)
            if tls is not None:
                raise Unreachable(f"ARM endpoint {self.endpoint} failed the TLS handshake: {tls}") from None
            lowered = text.lower()
            if "badstatusline" in lowered or "linetoolong" in lowered or "too many headers" in lowered:
                raise Unreachable(
                    f"ARM endpoint {self.endpoint} answered '{what}' with something that is not HTTP"
                ) from None
            if "read timed out" in lowered:
                raise Unreachable(f"ARM endpoint {self.endpoint} did not answer '{what}' in time") from None
            if isinstance(exc, ServiceResponseError) or "reset" in lowered or "aborted" in lowered:
                raise Unreachable(
                    f"ARM endpoint {self.endpoint} dropped the connection of '{what}' ({text[:120]})"
                ) from None
            raise Unreachable(
                f"ARM endpoint {self.endpoint} could not be reached ({text[:120]})",
                hint="check the network/VPN and any proxy in between",
            ) from None
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):  # azure-core lets these through
                raise MalformedAnswer(f"ARM answered '{what}' with something that is not JSON") from None
            raise MalformedAnswer(f"ARM answered '{what}' with an unexpected document ({type(exc).__name__})") from None


class RuleHealthUnavailable(Exception):
    """Azure's own view cannot be had; never a failure of the command (contract §3)."""


# -- client assembly ---------------------------------------------------------------------------


def _client(subscription: str, endpoint: str, token: str | None, timeout: float, deadline: Any = None):
    from azure.core.pipeline import policies
    from azure.mgmt.core import ARMPipelineClient

    scope = _scope(endpoint)
    credential = _StaticToken(token) if token else _default_credential()
    allow_http = urlsplit(endpoint).scheme == "http"  # validated loopback-only by resolve_endpoint
    p = _policies()
    guard = p.RequestGuard(endpoint)
    pipeline = [
        policies.RequestIdPolicy(),
        policies.HeadersPolicy(),
        policies.UserAgentPolicy(sdk_moniker=f"akslbctl/{__version__}"),
        policies.ProxyPolicy(),
        policies.ContentDecodePolicy(),
        # No redirect is followed, for any method: a 307/308 would turn the rule-health POST into a
        # POST anywhere (contract §2); a 3xx reaches the caller as an answer that says so.
        policies.RedirectPolicy(permit_redirects=False),
        p.BoundedRetryPolicy(retry_total=2, retry_backoff_factor=0.5, timeout=max(timeout * 2, 30), deadline=deadline),
        p.AllowLoopbackHttp(endpoint) if allow_http else None,
        guard,  # before the bearer policy too: a foreign URL is refused before a token is attached
        _challenge_policy(credential, scope),
        p.DebugLogPolicy(),
        policies.SensitiveHeaderCleanupPolicy(),
        guard,  # last: nothing reaches the transport that it has not checked
    ]
    # The policies alone make the pipeline: no resource-provider auto-registration (it would POST).
    return ARMPipelineClient(
        base_url=endpoint,
        policies=[p for p in pipeline if p is not None],
        transport=bounded_transport(deadline),
        connection_timeout=min(timeout, 10.0),
        read_timeout=timeout,
    )


def bounded_transport(deadline: Any = None):
    """azure-core's requests transport, with every answer's body read by
    :func:`akslbctl.sources.bounded.read_body` (akslbctl's own ``Accept-Encoding``, a bound on the
    decompressed size, the deadline between chunks, a cut-short body named) and a JSON body's depth
    and size checked before the SDK — or a ``send_request`` caller — parses it."""
    from azure.core.pipeline.transport import RequestsTransport

    from akslbctl.sources import bounded

    class BoundedTransport(RequestsTransport):
        def send(self, request, **kwargs):  # type: ignore[override]
            request.headers["Accept-Encoding"] = bounded.ACCEPT_ENCODING
            streamed = kwargs.get("stream", False)
            kwargs["stream"] = True  # the body is read below, not by requests (which inflates unbounded)
            response = super().send(request, **kwargs)
            # Read now, bounded, even when the caller asked for a stream (the SDK streams the first
            # answer of a long-running operation such as rule health): no answer is read unbounded.
            internal = response.internal_response
            what = f"ARM answered {request.method} {urlsplit(request.url).path[:200]}"
            body = bounded.read_body(internal.raw, what, headers=internal.headers, deadline=deadline)
            bounded.count(len(body))
            if body.lstrip()[:1] in (b"{", b"["):  # JSON, whatever the Content-Type says: error bodies too
                bounded.check_shape(body, what)
            data = bytes(body)
            internal._content = data
            internal._content_consumed = True
            if hasattr(response, "read"):  # an azure.core.rest response (send_request, LRO initial calls)
                response._content = data
                if not streamed:
                    response.close()
            return response

    return BoundedTransport()


def _challenge_policy(credential: Any, scope: str):
    """azure-mgmt-core's bearer policy (it answers a Conditional Access claims challenge on a 401),
    with a challenge it cannot read — claims that are not base64, or not UTF-8 once decoded — said
    for what it is instead of escaping as a decoding error."""
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

    class ChallengePolicy(ARMChallengeAuthenticationPolicy):
        def on_challenge(self, request, response) -> bool:
            try:
                return super().on_challenge(request, response)
            except (ValueError, UnicodeDecodeError):  # binascii.Error is a ValueError
                raise AuthError(
                    "ARM rejected the credentials (401) with a claims challenge that is not valid base64: not answered",
                    hint="sign in again with 'az login' (Conditional Access may ask for a fresh sign-in)",
                ) from None

    return ChallengePolicy(credential, scope)


def _scope(endpoint: str) -> str:
    host = urlsplit(endpoint).hostname or ""
    if host.endswith("management.azure.com") or is_loopback(host):
        return "https://management.azure.com/.default"
    return endpoint.rstrip("/") + "/.default"


def _default_credential():
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


class _StaticToken:
    """A TokenCredential over a pasted bearer token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any):
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None):
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(self._token, int(time.time()) + 3600)


def origin_of(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port made explicit: what a token is bound to."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = -1  # unreadable: never equal to a validated endpoint's
    if port is None:
        port = {"https": 443, "http": 80}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


# Every request akslbctl may send to ARM, below the endpoint's own path: GETs of Microsoft.Network
# resources and operation results, and the one POST, rule health (contract §2).
_ALLOWED_GET = re.compile(
    r"^/subscriptions/[^/]+/(resourcegroups/[^/]+/)?providers/"
    r"(microsoft\.network/[^?#]*"  # Microsoft.Network reads and operation results
    # a scale set's NICs, which Microsoft.Network serves under the Compute path
    r"|microsoft\.compute/virtualmachinescalesets/[^/]+(/virtualmachines/[^/]+)?/networkinterfaces(/[^?#]*)?"
    # a VM's (or VMSS instance's) instance view: power state for the causes of pool gaps
    r"|microsoft\.compute/(virtualmachinescalesets/[^/]+/)?virtualmachines/[^/]+/instanceview)$",
    re.I,
)
_ALLOWED_POST = re.compile(
    r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.network/loadbalancers/[^/]+"
    r"/loadbalancingrules/[^/]+/health$",
    re.I,
)


class ForeignRequest(EvidenceError):
    """ARM pointed a request (nextLink, an LRO header, a redirect) somewhere akslbctl does not send to."""


def check_request(endpoint: str, method: str, url: str) -> None:
    """The one place that decides whether a request may leave: same origin as the validated endpoint
    (so the bearer token goes nowhere else, over no other scheme), and a read or rule health only.

    Raises :class:`ForeignRequest` with one line naming the host or the request."""
    want = origin_of(endpoint)
    got = origin_of(url)
    if got != want:
        host = got[1] or "?"
        shown = f"{got[0]}://{host}" + (f":{got[2]}" if got[2] not in (None, 443, 80) else "")
        raise ForeignRequest(
            f"ARM pointed a request at {shown}, which is not the ARM endpoint {endpoint}: not sent "
            "(the token goes to that endpoint only)",
            hint="check --arm-endpoint / AKSLBCTL_ARM_ENDPOINT and any proxy in between",
        )
    base = urlsplit(endpoint).path.rstrip("/")
    path = urlsplit(url).path
    if base and path.lower().startswith(base.lower() + "/"):
        path = path[len(base) :]
    method = method.upper()
    allowed = _ALLOWED_GET if method == "GET" else _ALLOWED_POST if method == "POST" else None
    segments = path.lower().split("/")
    dotted = any(seg in (".", "..") or "%2e" in seg or "%2f" in seg or "%5c" in seg for seg in segments)
    if allowed is None or dotted or not allowed.match(path):
        raise ForeignRequest(
            f"refused to send {method} {path[:120]} to ARM: akslbctl only reads (contract: read-only)",
            hint="ARM's answer pointed there; please report this with --debug output",
        )


@functools.cache
def _policies() -> types.SimpleNamespace:
    """akslbctl's pipeline policies. Their azure-core base classes load only when ARM is called: the
    offline commands (``explain -f``, ``diff -f``) import this module but never the Azure SDK."""
    from azure.core.pipeline.policies import RetryPolicy, SansIOHTTPPolicy

    class _AllowLoopbackHttp(SansIOHTTPPolicy):
        """Lets the bearer policy send to the validated http:// loopback endpoint (emulators, the lab) —
        to that origin only: any other URL keeps the https rule (and :class:`_RequestGuard` refuses it)."""

        def __init__(self, endpoint: str) -> None:
            self.origin = origin_of(endpoint)

        def on_request(self, request) -> None:
            if origin_of(request.http_request.url) == self.origin:
                request.context["enforce_https"] = False

    class _RequestGuard(SansIOHTTPPolicy):
        """The last policy before the transport: :func:`check_request` on every request, the first one,
        a ``nextLink`` page, an LRO poll (``Location`` / ``Azure-AsyncOperation``) and any retry alike."""

        def __init__(self, endpoint: str) -> None:
            self.endpoint = endpoint

        def on_request(self, request) -> None:
            http = request.http_request
            check_request(self.endpoint, http.method, http.url)

    class _DebugLogPolicy(SansIOHTTPPolicy):
        """``--debug``: request lines and statuses, never headers (they carry the token)."""

        def on_request(self, request) -> None:
            request.context["akslbctl_start"] = time.perf_counter()

        def on_response(self, request, response) -> None:
            if log.isEnabledFor(logging.DEBUG):
                url = request.http_request.url.split("?", 1)[0]
                took = (time.perf_counter() - request.context.get("akslbctl_start", time.perf_counter())) * 1000
                log.debug(
                    "%s %s → %s (%.0f ms)", request.http_request.method, url, response.http_response.status_code, took
                )

    class _BoundedRetryPolicy(RetryPolicy):
        """Retries transient failures and honours Retry-After, but never waits longer than MAX_RETRY_AFTER,
        nor past the command's deadline (a retry that could not finish in time is not worth starting)."""

        def __init__(self, *, deadline: Any = None, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.deadline = deadline

        def is_retry(self, settings, response) -> bool:
            after = self.get_retry_after(response)
            if after is not None and after > MAX_RETRY_AFTER:
                return False
            if self.deadline is not None and (after or 0.0) >= self.deadline.remaining():
                return False
            return super().is_retry(settings, response)

        def get_retry_after(self, response) -> float | None:
            """Retry-After (delta-seconds or an HTTP-date; ``retry-after-ms`` too), read by akslbctl's one
            parser: a value that is neither is no wait at all, never an exception out of the pipeline."""
            from akslbctl.sources.bounded import retry_after_seconds

            headers = response.http_response.headers
            after = retry_after_seconds(headers.get("Retry-After"))
            if after is not None:
                return after
            for name in ("retry-after-ms", "x-ms-retry-after-ms"):
                ms = retry_after_seconds(headers.get(name))
                if ms is not None:
                    return ms / 1000.0
            return None

        def is_exhausted(self, settings) -> bool:
            if self.deadline is not None and self.deadline.expired:
                return True
            return super().is_exhausted(settings)

        def _sleep_for_retry(self, response, transport) -> bool:
            after = self.get_retry_after(response)
            if after:
                transport.sleep(min(after, MAX_RETRY_AFTER))
                return True
            return False

    return types.SimpleNamespace(
        AllowLoopbackHttp=_AllowLoopbackHttp,
        RequestGuard=_RequestGuard,
        DebugLogPolicy=_DebugLogPolicy,
        BoundedRetryPolicy=_BoundedRetryPolicy,
    )


# -- helpers -----------------------------------------------------------------------------------


def _seg(name: str) -> str:
    """A path segment quoted as azure-mgmt-network quotes resource names."""
    from urllib.parse import quote

    return quote(str(name), safe="")


def _document(response: Any) -> Any:
    """The JSON document of an ARM answer: the one place an answer's body is read and decoded."""
    body = response.read()
    return json.loads(body)


def _raise_for_status(response: Any, ok: tuple[int, ...]) -> None:
    """The SDK's error mapping of an answer that is not a success: 401, 404, 409, 304 to their
    azure-core errors, anything else to HttpResponseError with ARM's error code parsed."""
    if response.status_code in ok:
        return
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceExistsError,
        ResourceNotFoundError,
        ResourceNotModifiedError,
        map_error,
    )
    from azure.mgmt.core.exceptions import ARMErrorFormat

    response.read()  # the error body, for its code; and the connection goes back to the pool
    errors = {
        401: ClientAuthenticationError,
        404: ResourceNotFoundError,
        409: ResourceExistsError,
        304: ResourceNotModifiedError,
    }
    map_error(status_code=response.status_code, response=response, error_map=errors)
    raise HttpResponseError(response=response, error_format=ARMErrorFormat)


def _subscription_of(resource_id: str) -> str | None:
    """The subscription an ARM id names (None when it names none): a resource in another subscription
    than the cluster's — a hub VNet, its subnet NSG — is read there."""
    parts = [p for p in resource_id.split("/") if p]
    low = [p.lower() for p in parts]
    if "subscriptions" in low and low.index("subscriptions") + 1 < len(parts):
        return parts[low.index("subscriptions") + 1]
    return None


def _rg_and_name(resource_id: str, *kinds: str) -> tuple[str | None, ...]:
    """The resource group and the names after each of ``kinds`` (lower-case segment names), in order.

    ``_rg_and_name(id, "virtualnetworks", "subnets")`` → ``(rg, vnet, subnet)``. Each kind is looked
    for after the one before it (and after the resource group), so a resource group that happens to
    be called ``subnets`` is not mistaken for the segment; a name that is not there is None.
    """
    parts = [p for p in resource_id.split("/") if p]
    low = [p.lower() for p in parts]
    rg = None
    start = 0
    if "resourcegroups" in low and low.index("resourcegroups") + 1 < len(parts):
        start = low.index("resourcegroups") + 2
        rg = parts[start - 1]
    names: list[str | None] = []
    for kind in kinds:
        at = low.index(kind, start) if kind in low[start:] else -1
        if at < 0 or at + 1 >= len(parts):
            names.append(None)
            continue
        names.append(parts[at + 1])
        start = at + 2
    return (rg, *names)


def _retry_after(exc: Any) -> float | None:
    """The seconds of a throttled answer's ``Retry-After`` header, delta-seconds or HTTP-date (None
    when absent or unreadable)."""
    from akslbctl.sources.bounded import retry_after_seconds

    response = getattr(exc, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    after = retry_after_seconds(value)
    return after if after is not None and 0 < after < 86400 * 366 else None


def _redirect(exc: Any) -> str:
    """``302 to host`` of a redirect answer (the host only: a Location may carry anything)."""
    status = getattr(exc, "status_code", None)
    response = getattr(exc, "response", None)
    location = getattr(response, "headers", {}).get("Location") if response is not None else None
    host = urlsplit(location).hostname if location else None
    return f"{status} to {host}" if host else f"{status}"


def _error_code(exc: Any) -> str | None:
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None)
    status = getattr(exc, "status_code", None)
    if code:
        return f"{status} {code}" if status else str(code)
    return None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
