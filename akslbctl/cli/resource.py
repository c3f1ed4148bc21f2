"""kubectl-style resource arguments: ``svc/NAME``, ``service/NAME``, ``services/NAME``, ``svc NAME``, ``NAME``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from akslbctl.errors import UsageError

SERVICE_TYPES = {"svc", "service", "services"}
# Service names are DNS-1035 labels (Kubernetes validation): what cannot exist is a typo, not a lookup.
_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def parse_resources(args: Sequence[str]) -> list[str]:
    """Service names from resource arguments; a usage error (exit 2) for anything else."""
    args = [a for a in args if a != ""]
    if not args:
        raise UsageError("no Service given", hint="pass svc/NAME, for example svc/web")
    first = args[0]
    if "/" not in first and first.lower() in SERVICE_TYPES:
        names = args[1:]
        if not names:
            raise UsageError(f"'{first}' needs a name", hint="pass svc/NAME")
        if any("/" in n for n in names):
            raise UsageError("do not mix TYPE NAME with TYPE/NAME arguments", hint="pass svc/NAME")
        return [check_name(n) for n in names]
    if "/" not in first and len(args) > 1 and all("/" not in a for a in args[1:]):
        raise UsageError(
            f"'{first}' is not a resource type akslbctl knows",
            hint="akslbctl diagnoses Services only: pass svc/NAME",
        )
    names = []
    for arg in args:
        kind, sep, name = arg.partition("/")
        if not sep:
            if len(args) > 1:
                raise UsageError("do not mix TYPE/NAME with bare names", hint="pass svc/NAME for each Service")
            names.append(check_name(arg))
            continue
        if kind.lower() not in SERVICE_TYPES:
            raise UsageError(
                f"'{arg}' is a {kind}, not a Service",
                hint="akslbctl diagnoses Services of type LoadBalancer: pass svc/NAME",
            )
        if not name:
            raise UsageError(f"'{arg}' has no name", hint="pass svc/NAME")
        if "/" in name:
            raise UsageError(f"'{arg}' is not TYPE/NAME", hint="pass svc/NAME")
        names.append(check_name(name))
    return names


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(
            f"'{name}' is not a valid Service name",
            hint="Service names are lowercase letters, digits and '-', starting with a letter",
        )
    return name


def check_namespace(namespace: str | None) -> str | None:
    if namespace is not None and not _NAMESPACE.match(namespace):
        raise UsageError(f"'{namespace}' is not a valid namespace name")
    return namespace
