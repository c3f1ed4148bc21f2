"""Completion candidates that come from the cluster: contexts, namespaces, LoadBalancer Services.

Contexts are read from the kubeconfig file(s) with PyYAML alone — no API call, no kubernetes client.
Namespaces and Services need the API: one list request with a short timeout, the whole lookup bounded
by a deadline (a hung API server or an exec credential plugin waiting for a login must not hang the
shell), and the answer kept in a small on-disk cache for a short while, so that the TABs that follow
answer from a file without importing the kubernetes client at all.

The cache (``$XDG_CACHE_HOME/akslbctl/complete``, else ``~/.cache/akslbctl/complete``) holds names and
one-line descriptions only — never a credential. Its key is the kubeconfig files' paths, sizes and
modification times (switching context rewrites the file, so the key changes), the context, the
namespace and the kind of list.
"""

from __future__ import annotations

import os
import time

CACHE_TTL = 60.0  # seconds a list stays fresh
REQUEST_TIMEOUT = 1.0  # seconds for the API request (connect, then the answer)
DEADLINE = 2.0  # seconds for the whole lookup, kubeconfig loading and credential plugins included
_PRUNE_AGE = 86400.0  # cache files older than this are removed when a new one is written
QUIET = False  # set by the ``__complete`` entry: the whole process answers one completion request

INTERNAL_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-internal"


class Scope:
    """Where to look: the connection options typed on the command line so far."""

    __slots__ = ("kubeconfig", "context", "namespace")

    def __init__(self, kubeconfig: str | None = None, context: str | None = None, namespace: str | None = None):
        self.kubeconfig = kubeconfig
        self.context = context
        self.namespace = namespace


class LookupFailed(Exception):
    """The API could not answer in time (or at all); completion shows nothing."""


# -- contexts: the kubeconfig file(s) only -----------------------------------------------------------


def contexts(kubeconfig: str | None = None) -> list[tuple[str, str]]:
    """Contexts of the kubeconfig files as kubectl merges them (the first file naming one wins)."""
    from akslbctl.sources.kube import kubeconfig_paths

    docs = [doc for doc in (_read_yaml(p) for p in kubeconfig_paths(kubeconfig)) if isinstance(doc, dict)]
    current = next((d.get("current-context") for d in docs if d.get("current-context")), None)
    out: dict[str, str] = {}
    for doc in docs:
        for entry in doc.get("contexts") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or entry["name"] in out:
                continue
            ctx = entry.get("context") if isinstance(entry.get("context"), dict) else {}
            parts = []
            if ctx.get("cluster"):
                parts.append(f"cluster {ctx['cluster']}")
            if ctx.get("namespace"):
                parts.append(f"namespace {ctx['namespace']}")
            desc = ", ".join(parts)
            if entry["name"] == current:
                desc = f"{desc} (current)" if desc else "current"
            out[entry["name"]] = desc
    return list(out.items())


def _read_yaml(path: str):
    from akslbctl.sources.kube import read_kubeconfig

    data = read_kubeconfig(path)  # a FIFO, a device or a huge file: None, at once
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError:
        return None


# -- namespaces and Services: the API, cached ----------------------------------------------------------


def namespaces(scope: Scope) -> list[tuple[str, str]]:
    return _cached("namespaces", scope)


def services(scope: Scope) -> list[tuple[str, str]]:
    """LoadBalancer Services akslbctl can diagnose (no loadBalancerClass) in the scope's namespace."""
    return _cached("services", scope)


def _cached(kind: str, scope: Scope) -> list[tuple[str, str]]:
    path = cache_file(kind, scope)
    found = _read_cache(path)
    if found is not None:
        return found
    items = _lookup(kind, scope)
    _write_cache(path, items)
    return items


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "akslbctl", "complete")


def cache_file(kind: str, scope: Scope) -> str:
    import hashlib
    import json

    from akslbctl import __version__
    from akslbctl.sources.kube import kubeconfig_paths

    stamps = []
    for p in kubeconfig_paths(scope.kubeconfig):
        try:
            st = os.stat(p)
            stamps.append([os.path.abspath(p), st.st_mtime_ns, st.st_size])
        except OSError:
            stamps.append([os.path.abspath(p), None, None])
    in_cluster = [os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("POD_NAMESPACE")]
    raw = json.dumps([__version__, kind, stamps, in_cluster, scope.context, scope.namespace])
    return os.path.join(cache_dir(), f"{kind}-{hashlib.sha256(raw.encode()).hexdigest()[:32]}.json")


def _read_cache(path: str) -> list[tuple[str, str]] | None:
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        age = time.time() - float(doc["at"])
        if not 0 <= age < CACHE_TTL:
            return None
        return [(str(name), str(desc)) for name, desc in doc["items"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cache(path: str, items: list[tuple[str, str]]) -> None:
    import json

    try:
        folder = os.path.dirname(path)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
            json.dump({"at": time.time(), "items": items}, fh)
        os.replace(tmp, path)
        now = time.time()
        for name in os.listdir(folder):
            old = os.path.join(folder, name)
            if now - os.stat(old).st_mtime > _PRUNE_AGE:
                os.unlink(old)
    except OSError:
        pass  # a read-only home: completion still works, uncached


def _lookup(kind: str, scope: Scope) -> list[tuple[str, str]]:
    """Ask the API in a worker thread and give up at the deadline (the thread dies with the process)."""
    import threading

    if QUIET:
        import logging

        from akslbctl import notices

        notices.sink = lambda text: None  # a completion process says nothing on stderr

        # The clients log warnings (urllib3 retries) through logging's last-resort handler to stderr;
        # a completion process says nothing there.
        logging.getLogger().addHandler(logging.NullHandler())
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["items"] = _query(kind, scope)
        except BaseException as exc:  # reported as "no candidates"
            box["error"] = exc

    worker = threading.Thread(target=work, name=f"akslbctl-complete-{kind}", daemon=True)
    worker.start()
    worker.join(DEADLINE)
    if "items" not in box:
        raise LookupFailed(kind) from box.get("error")  # type: ignore[arg-type]
    return box["items"]  # type: ignore[return-value]


def _query(kind: str, scope: Scope) -> list[tuple[str, str]]:
    from akslbctl.sources.kube import KubeOptions, KubeSource

    source = KubeSource(KubeOptions(scope.kubeconfig, scope.context, scope.namespace, REQUEST_TIMEOUT))
    try:
        if kind == "namespaces":
            return sorted((_name(d), "") for d in source.namespaces() if _name(d))
        return sorted((_name(d), service_description(d)) for d in source.services(source.namespace) if _diagnosable(d))
    finally:
        source.close()


def _name(doc: dict) -> str:
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    name = meta.get("name")
    return name if isinstance(name, str) else ""


def _diagnosable(doc: dict) -> bool:
    spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
    return bool(_name(doc)) and spec.get("type") == "LoadBalancer" and not spec.get("loadBalancerClass")


def service_description(doc: dict) -> str:
    """``20.31.40.10 · TCP 80, TCP 443`` (``internal 10.224.0.5 · …``; ``no IP yet`` while pending)."""
    spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
    status = doc.get("status") if isinstance(doc.get("status"), dict) else {}
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    ingress = ((status.get("loadBalancer") or {}).get("ingress")) or []
    ips = [i.get("ip") or i.get("hostname") for i in ingress if isinstance(i, dict)]
    address = ", ".join(ip for ip in ips if ip) or "no IP yet"
    if str((meta.get("annotations") or {}).get(INTERNAL_ANNOTATION, "")).lower() == "true":
        address = f"internal {address}"
    ports = [f"{p.get('protocol', 'TCP')} {p.get('port')}" for p in spec.get("ports") or [] if isinstance(p, dict)]
    return " · ".join([address, ", ".join(ports)]) if ports else address
