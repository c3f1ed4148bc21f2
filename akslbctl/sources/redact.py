"""Consistent redaction of a case document before it leaves the customer's hands.

``capture --redact`` replaces subscription ids, tenant ids, resource-group names and public IP addresses
with placeholders. The same value always maps to the same placeholder (resource groups and ids
case-insensitively: ``MC_rg`` and ``mc_rg`` become one placeholder), and the structure of every ARM id and
providerID is kept, so ids still join and the analysis of a redacted case gives the same verdicts and
findings as the original, modulo the replaced values.

Pure: a document in, a new document out, no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import field
from typing import Any

from akslbctl.records import record

# Segments of ARM ids and providerIDs that name what we redact.
_SUB_IN_ID = re.compile(r"/subscriptions/([^/\s\"'?#]+)", re.IGNORECASE)
_RG_IN_ID = re.compile(r"/resourceGroups/([^/\s\"'?#]+)", re.IGNORECASE)
_TENANT_IN_TEXT = re.compile(
    r"(?:/tenants/|login\.microsoftonline\.com/|sts\.windows\.net/)([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
    re.IGNORECASE,
)
# A tenant id standing in free text: an AADSTS message's "directory '…'", "Tenant ID: …", "tid=…".
_TENANT_WORDS = re.compile(
    r"(?:tenant|directory|\btid)(?:[\s\"':=(\[]|id)*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
    re.IGNORECASE,
)
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)

# Keys whose value is a resource-group name or a tenant id wherever they appear (az CLI output adds
# ``resourceGroup`` to nested objects; AKS tags the LB with the cluster's own resource group).
_RG_KEYS = frozenset({"resourcegroup", "resource_group", "noderesourcegroup", "node_resource_group"})
_RG_TAGS = frozenset({"aks-managed-cluster-rg"})
_RG_ANNOTATIONS = frozenset(
    {
        "service.beta.kubernetes.io/azure-load-balancer-resource-group",
        "service.beta.kubernetes.io/azure-pip-prefix-resource-group",
    }
)
_TENANT_KEYS = frozenset({"tenantid", "tenant_id", "tenant"})

# Resource-group names are letters, digits, '_', '-', '.', '(' and ')': a name is replaced only where
# it stands as a whole token, so the group "rg" leaves "MC_rg_aks_westeurope" alone (that whole name is
# a group of its own).
_RG_EDGE_BEFORE = r"(?<![\w.()\-])"
_RG_EDGE_AFTER = r"(?![\w.()\-])"

_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?!\.?\d)")
_IPV6 = re.compile(r"(?<![\w:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w:])")

# Public addresses that are Azure's, not the customer's: the platform's probe and DNS source.
_PLATFORM_IPS = frozenset({"168.63.129.16"})

# Placeholders for public IPv4: the three documentation networks, then the benchmarking network.
_IPV4_POOLS = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15")
_IPV6_POOL = "2001:db8::/32"
_POOL_MARKERS = ("192.0.2.", "198.51.100.", "203.0.113.", "198.18.", "198.19.", "2001:db8:", "2001:DB8:")


@record
class Redactor:
    """Maps each sensitive value to its placeholder; one instance per document keeps them consistent."""

    subscriptions: dict[str, str] = field(default_factory=dict)  # lower-cased value → placeholder
    tenants: dict[str, str] = field(default_factory=dict)
    resource_groups: dict[str, str] = field(default_factory=dict)
    ips: dict[str, str] = field(default_factory=dict)  # canonical address → placeholder
    _avoid: set[str] = field(default_factory=set)  # addresses already in the document
    _free4: Iterator[str] | None = None
    _free6: Iterator[str] | None = None
    _pattern: re.Pattern[str] | None = None
    _learnt: set[str] = field(default_factory=set)  # strings already scanned (documents repeat many)
    _done: dict[str, str] = field(default_factory=dict)  # string → its redacted form

    # -- learning what to replace ---------------------------------------------------------------

    def learn(self, doc: Any, *, subscriptions: Iterable[str] = (), resource_groups: Iterable[str] = ()) -> None:
        """Collect every value to replace from ``doc`` (and the ones the caller already knows)."""
        for s in subscriptions:
            self._add(self.subscriptions, s, "subscription")
        for rg in resource_groups:
            self._add(self.resource_groups, rg, "resource-group")
        self._learn(doc, None)
        self._pattern = None
        self._done.clear()

    def _add(self, table: dict[str, str], value: str | None, kind: str) -> None:
        if value and value.lower() not in table:
            table[value.lower()] = f"redacted-{kind}-{len(table) + 1}"

    def _learn(self, value: Any, key: str | None, parent_key: str | None = None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                self._learn(v, str(k), key)
        elif isinstance(value, list):
            for v in value:
                self._learn(v, key, parent_key)
        elif isinstance(value, str):
            self._learn_string(value, key, parent_key)

    def _learn_string(self, text: str, key: str | None, parent_key: str | None) -> None:
        low_key = (key or "").lower()
        if low_key in _RG_KEYS or (parent_key == "tags" and low_key in _RG_TAGS) or low_key in _RG_ANNOTATIONS:
            self._add(self.resource_groups, text.strip(), "resource-group")
        if low_key in _TENANT_KEYS and _GUID.match(text.strip()):
            self._add(self.tenants, text.strip(), "tenant")
        if text in self._learnt:
            return
        self._learnt.add(text)
        if "/" in text:
            for m in _SUB_IN_ID.finditer(text):
                self._add(self.subscriptions, m.group(1), "subscription")
            for m in _RG_IN_ID.finditer(text):
                self._add(self.resource_groups, m.group(1), "resource-group")
            for m in _TENANT_IN_TEXT.finditer(text):
                self._add(self.tenants, m.group(1), "tenant")
        if "-" in text:
            for m in _TENANT_WORDS.finditer(text):
                self._add(self.tenants, m.group(1), "tenant")
        if any(marker in text for marker in _POOL_MARKERS):
            # Only addresses inside the placeholder pools could collide with a placeholder.
            for address in _addresses(text):
                if not _is_public(address):
                    self._avoid.add(str(address))

    # -- replacing --------------------------------------------------------------------------------

    def apply(self, doc: Any) -> Any:
        """A copy of ``doc`` with every string redacted."""
        if isinstance(doc, dict):
            return {k: self.apply(v) for k, v in doc.items()}
        if isinstance(doc, list):
            return [self.apply(v) for v in doc]
        if isinstance(doc, str):
            return self.text(doc)
        return doc

    def text(self, text: str) -> str:
        done = self._done.get(text)
        if done is not None:
            return done
        out = text
        pattern = self._names_pattern()
        if pattern is not None:
            out = pattern.sub(self._name_placeholder, out)
        if "." in out:
            out = _IPV4.sub(self._ip_placeholder, out)
        if out.count(":") >= 2:
            out = _IPV6.sub(self._ip_placeholder, out)
        self._done[text] = out
        return out

    def _names_pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None:
            ids = [v for v in (*self.subscriptions, *self.tenants) if _GUID.match(v)]
            # A GUID is replaced wherever it occurs; any other name only as a whole token.
            tokens = [v for v in (*self.subscriptions, *self.tenants, *self.resource_groups) if not _GUID.match(v)]
            parts = []
            if ids:
                parts.append("(?P<id>" + "|".join(re.escape(i) for i in sorted(set(ids), key=len, reverse=True)) + ")")
            if tokens:
                alternatives = "|".join(re.escape(t) for t in sorted(set(tokens), key=len, reverse=True))
                parts.append(f"{_RG_EDGE_BEFORE}(?P<tok>{alternatives}){_RG_EDGE_AFTER}")
            if not parts:
                return None
            self._pattern = re.compile("|".join(parts), re.IGNORECASE)
        return self._pattern

    def _name_placeholder(self, m: re.Match[str]) -> str:
        low = m.group(0).lower()
        if m.lastgroup == "tok":
            return self.resource_groups.get(low) or self.subscriptions.get(low) or self.tenants[low]
        return self.subscriptions.get(low) or self.tenants.get(low) or self.resource_groups[low]

    def _ip_placeholder(self, m: re.Match[str]) -> str:
        try:
            address = ipaddress.ip_address(m.group(1))
        except ValueError:
            return m.group(0)
        if not _is_public(address):
            return m.group(0)
        key = str(address)
        if key not in self.ips:
            self.ips[key] = self._next_placeholder(address.version)
        return self.ips[key]

    def _next_placeholder(self, version: int) -> str:
        if version == 4:
            if self._free4 is None:
                self._free4 = _hosts(_IPV4_POOLS, self._avoid)
            it = self._free4
        else:
            if self._free6 is None:
                self._free6 = _hosts((_IPV6_POOL,), self._avoid)
            it = self._free6
        try:
            return next(it)
        except StopIteration:  # pragma: no cover - 132,000 distinct public IPv4 addresses
            raise ValueError("too many distinct public IP addresses to redact") from None

    @property
    def replaced(self) -> int:
        return len(self.subscriptions) + len(self.tenants) + len(self.resource_groups) + len(self.ips)


def redact(doc: Any, *, subscriptions: Iterable[str] = (), resource_groups: Iterable[str] = ()) -> Any:
    """``doc`` with subscription and tenant ids, resource-group names and public IPs replaced consistently."""
    r = Redactor()
    r.learn(doc, subscriptions=subscriptions, resource_groups=resource_groups)
    return r.apply(doc)


def _addresses(text: str) -> Iterator[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    for pattern in (_IPV4, _IPV6):
        for m in pattern.finditer(text):
            try:
                yield ipaddress.ip_address(m.group(1))
            except ValueError:
                continue


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global and str(address) not in _PLATFORM_IPS


def _hosts(pools: Iterable[str], avoid: set[str]) -> Iterator[str]:
    for pool in pools:
        for host in ipaddress.ip_network(pool).hosts():
            if str(host) not in avoid:
                yield str(host)
