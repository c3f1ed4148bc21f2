"""Kubernetes source: raw JSON through the official client's configuration and transport.

The ``kubernetes`` package loads kubeconfig like kubectl does (a ``KUBECONFIG`` list, contexts, exec
plugins such as kubelogin, in-cluster service accounts) and sends requests with its urllib3 transport.
Its typed API classes and pydantic models are never used: documents are fetched raw and parsed with
``json`` (no model validation that could reject a server's answer), and only the submodules in use
are imported (:mod:`akslbctl.sources.kubeclient`).

Read-only: this module only ever sends GET.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from akslbctl import __version__
from akslbctl.deadline import MIN_WAIT
from akslbctl.errors import (
    AuthError,
    EvidenceError,
    Forbidden,
    MalformedAnswer,
    NotFoundError,
    Unreachable,
    UsageError,
)
from akslbctl.logs import quiet_root
from akslbctl.records import record
from akslbctl.sources.bounded import (
    ACCEPT_ENCODING,
    ListBudget,
    loads,
    read_body,
    retry_after_seconds,
    tls_problem,
    url_port_problem,
)

log = logging.getLogger("akslbctl.kube")
quiet_root()  # the kubernetes client reports a failing exec plugin with logging.error()

DEFAULT_KUBECONFIG = os.path.join("~", ".kube", "config")
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
PAGE_SIZE = 500  # as kubectl pages its lists
USER_AGENT = f"akslbctl/{__version__}"  # as kubectl names itself: the server's audit log shows who read
MAX_EVENTS = 1000  # a Service's events are deduplicated by count; more than this is noise
MAX_PODS = 1000  # pods behind one Service read for readiness probes and the share (bounded)
MAX_POLICIES = 500  # NetworkPolicies of one namespace
MAX_THROTTLED = 3  # 429s ridden out per request (each wait as its Retry-After says, at most MAX_RETRY_AFTER)
MAX_RETRY_AFTER = 10.0  # seconds: as for ARM


@record(frozen=True)
class KubeOptions:
    kubeconfig: str | None = None  # --kubeconfig; else KUBECONFIG; else ~/.kube/config; else in-cluster
    context: str | None = None
    namespace: str | None = None
    request_timeout: float = 10.0
    deadline: Any = None  # akslbctl.deadline.Deadline: each request waits at most what is left of it


def kubeconfig_paths(explicit: str | None, environ: dict[str, str] | None = None) -> list[str]:
    """The kubeconfig files kubectl would read, in order (KUBECONFIG is an os.pathsep list)."""
    env = os.environ if environ is None else environ
    if explicit:
        return [os.path.expanduser(explicit)]
    if env.get("KUBECONFIG"):
        return [os.path.expanduser(p) for p in env["KUBECONFIG"].split(os.pathsep) if p]
    return [os.path.expanduser(DEFAULT_KUBECONFIG)]


MAX_KUBECONFIG_BYTES = 4 * 1024 * 1024  # one kubeconfig file: 400 AKS clusters with admin certificates take 2.4 MB


def kubeconfig_problem(path: str) -> str | None:
    """What makes ``path`` unusable as a kubeconfig file, or None (a regular file within the bound,
    or no file at all: a missing entry of a KUBECONFIG list is skipped, as kubectl does). Never
    opens the file: a FIFO or a device is judged by what it is, so nothing here blocks or grows."""
    import stat

    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if stat.S_ISDIR(st.st_mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a FIFO (named pipe)"
            if stat.S_ISFIFO(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "a socket"
        )
        return f"is {kind}, not a file"
    if st.st_size > MAX_KUBECONFIG_BYTES:
        return (
            f"is {st.st_size / 1048576:.0f} MiB: akslbctl reads kubeconfig files of at most "
            f"{MAX_KUBECONFIG_BYTES // 1048576} MiB"
        )
    return None


_FILE_FIELDS = {
    "cluster": ("certificate-authority",),
    "user": ("client-certificate", "client-key", "tokenFile"),
}


def _check_referenced_files(files: list[str], chosen: dict[str, Any]) -> None:
    """The files the chosen context's cluster and user name (a CA, a client certificate and key, a
    token file) are judged as the kubeconfig itself is — before the kubernetes client reads them:
    one that is a FIFO, a device (``tokenFile: /dev/zero``) or over the bound is exit 2, not a hang
    or a process that grows. Relative paths are the kubeconfig file's, as kubectl reads them."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    ctx = chosen.get("context") if isinstance(chosen.get("context"), dict) else {}
    wanted = {"cluster": ctx.get("cluster"), "user": ctx.get("user")}
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in files:
        try:
            with open(path, "rb") as fh:
                doc = yaml.load(fh.read(MAX_KUBECONFIG_BYTES + 1), Loader=loader)
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(doc, dict):
            continue
        for kind, name in wanted.items():
            if kind in found or not isinstance(name, str):
                continue
            for entry in doc.get(kind + "s") or []:
                if isinstance(entry, dict) and entry.get("name") == name and isinstance(entry.get(kind), dict):
                    found[kind] = (path, entry[kind])
                    break
    for kind, (path, entry) in found.items():
        for key in _FILE_FIELDS[kind]:
            value = entry.get(key)
            if not isinstance(value, str) or not value:
                continue
            target = os.path.join(os.path.dirname(os.path.abspath(path)), os.path.expanduser(value))
            problem = kubeconfig_problem(target)
            if problem:
                raise UsageError(f"the {key} of kubeconfig {kind} {wanted[kind]!r}, {value}, {problem}")


def kubeconfig_files(paths: list[str]) -> list[str]:
    """The kubeconfig files of ``paths`` that exist; :class:`UsageError` (exit 2) for one that is a
    folder, a FIFO, a device or larger than :data:`MAX_KUBECONFIG_BYTES`."""
    usable = []
    for p in paths:
        problem = kubeconfig_problem(p)
        if problem:
            hint = "save the kubeconfig to a file and pass that" if "not a file" in problem else None
            raise UsageError(f"kubeconfig {p} {problem}", hint=hint)
        if os.path.isfile(p):
            usable.append(p)
    return usable


def read_kubeconfig(path: str) -> bytes | None:
    """A kubeconfig file's bytes for completion, or None when it is missing or unusable: never
    blocking (a FIFO is not opened) and never reading past :data:`MAX_KUBECONFIG_BYTES`."""
    if kubeconfig_problem(path) is not None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced since it was looked at
            return None
        data = os.read(fd, MAX_KUBECONFIG_BYTES + 1)
        return data if len(data) <= MAX_KUBECONFIG_BYTES else None
    except OSError:
        return None
    finally:
        os.close(fd)


class KubeSource:
    """Fetches the Service, Nodes, EndpointSlices and server version as raw dictionaries."""

    def __init__(self, options: KubeOptions) -> None:
        self.options = options
        self._api, self.namespace, self.server, self.context = _connect(options)

    # -- documents ------------------------------------------------------------------------

    def version(self) -> dict[str, Any]:
        return self._get("/version")

    def service(self, namespace: str, name: str) -> dict[str, Any]:
        path = f"/api/v1/namespaces/{quote(namespace, safe='')}/services/{quote(name, safe='')}"
        try:
            return self._get(path)
        except _NotFound:
            raise NotFoundError(
                f'service "{name}" not found in namespace "{namespace}"',
                hint="check the name and -n/--namespace (kubectl get svc -A lists them)",
            ) from None

    def services(self, namespace: str | None, selector: str | None = None) -> list[dict[str, Any]]:
        path = "/api/v1/services" if namespace is None else f"/api/v1/namespaces/{quote(namespace, safe='')}/services"
        query = [("labelSelector", selector)] if selector else []
        return list(self._list(path, query))

    def namespaces(self) -> list[dict[str, Any]]:
        return list(self._list("/api/v1/namespaces", []))

    def nodes(self, first: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
        """Every Node. ``first`` is called with the first one as soon as it is read: the list's first
        page then asks for one Node, the next pages for ``PAGE_SIZE`` (no page is read twice)."""
        if first is None:
            return list(self._list("/api/v1/nodes", []))
        out: list[dict[str, Any]] = []
        for item in self._list("/api/v1/nodes", [], first_page=1):
            out.append(item)
            if len(out) == 1:
                first(item)
        return out

    def endpoint_slices(self, namespace: str, service_name: str) -> list[dict[str, Any]]:
        path = f"/apis/discovery.k8s.io/v1/namespaces/{quote(namespace, safe='')}/endpointslices"
        return list(self._list(path, [("labelSelector", f"kubernetes.io/service-name={service_name}")]))

    def events(self, namespace: str, name: str, uid: str | None = None) -> list[dict[str, Any]]:
        """The Service's Events (``kubectl describe svc`` reads the same), at most ``MAX_EVENTS``.

        core/v1 with an ``involvedObject`` field selector; events.k8s.io/v1 (``regarding``) where the
        core group does not serve them. Raises :class:`Forbidden` on a 403.
        """
        ns = quote(namespace, safe="")
        terms = ["involvedObject.kind=Service", f"involvedObject.name={name}"] + (
            [f"involvedObject.uid={uid}"] if uid else []
        )
        try:
            return list(self._list(f"/api/v1/namespaces/{ns}/events", [("fieldSelector", ",".join(terms))], MAX_EVENTS))
        except _NotFound:
            pass
        terms = ["regarding.kind=Service", f"regarding.name={name}"] + ([f"regarding.uid={uid}"] if uid else [])
        try:
            return list(
                self._list(
                    f"/apis/events.k8s.io/v1/namespaces/{ns}/events", [("fieldSelector", ",".join(terms))], MAX_EVENTS
                )
            )
        except _NotFound:
            raise EvidenceError("this Kubernetes API serves no Events") from None

    def pods(self, namespace: str, selector: str, limit: int = MAX_PODS) -> list[dict[str, Any]]:
        """The pods a Service selects: one list with its label selector, at most ``limit`` of them."""
        path = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods"
        return self._bounded(path, [("labelSelector", selector)], limit)

    def network_policies(self, namespace: str, limit: int = MAX_POLICIES) -> list[dict[str, Any]]:
        path = f"/apis/networking.k8s.io/v1/namespaces/{quote(namespace, safe='')}/networkpolicies"
        return self._bounded(path, [], limit)

    def cilium_network_policies(self, namespace: str, limit: int = MAX_POLICIES) -> list[dict[str, Any]]:
        """CiliumNetworkPolicies; raises NotFoundError where the CRD is not served (no Cilium)."""
        path = f"/apis/cilium.io/v2/namespaces/{quote(namespace, safe='')}/ciliumnetworkpolicies"
        try:
            return self._bounded(path, [], limit)
        except _NotFound:
            raise NotFoundError("the CiliumNetworkPolicy CRD is not served (no Cilium)") from None

    def _bounded(self, path: str, query: list[tuple[str, str]], limit: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for item in self._list(path, query, page=min(PAGE_SIZE, limit)):
            out.append(item)
            if len(out) >= limit:
                break
        return out

    def close(self) -> None:
        self._api.close()

    # -- transport ------------------------------------------------------------------------

    def _list(
        self,
        path: str,
        query: list[tuple[str, str]],
        max_items: int | None = None,
        page: int = PAGE_SIZE,
        *,
        first_page: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        cont: str | None = None
        seen: set[str] = set()
        given = 0
        budget = ListBudget(f"Kubernetes API's list {path}")
        while True:
            limit = first_page if first_page and not cont else page
            q = [*query, ("limit", str(limit))] + ([("continue", cont)] if cont else [])
            doc, size = self._get_sized(path, q)
            items = doc.get("items")
            if not isinstance(items, list):
                raise MalformedAnswer(f"Kubernetes API answered {path} without an items list")
            budget.page(len(items), size)
            if max_items is not None:
                items = items[: max_items - given]
                given += len(items)
            yield from items
            if max_items is not None and given >= max_items:
                return
            meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
            cont = meta.get("continue") or None
            if not cont:
                return
            if not isinstance(cont, str):
                raise MalformedAnswer(f"Kubernetes API answered {path} with a continue token that is not a string")
            if cont in seen:
                # A server that hands out the same page again would have the list grow without end.
                raise MalformedAnswer(f"Kubernetes API answered {path} with a continue token it already gave")
            seen.add(cont)

    def _get(self, path: str, query: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        return self._get_sized(path, query)[0]

    def _get_sized(self, path: str, query: list[tuple[str, str]] | None = None) -> tuple[dict[str, Any], int]:
        """The JSON object at ``path`` and the size of its (decompressed) body, read with the bounds
        of :mod:`akslbctl.sources.bounded`."""
        method, url = "GET", self.server + path
        if query:
            # Encoded as the kubernetes client's ApiClient encodes a query (quote, "/" kept).
            url += "?" + "&".join(f"{k}={quote(str(v))}" for k, v in query)
        # Accept-Encoding is ours: the body is inflated by bounded.read_body, with a bound.
        headers = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING, "User-Agent": USER_AGENT}
        _check_request(self.server, method, url)
        timeout = self.options.request_timeout
        deadline = self.options.deadline
        if deadline is not None:
            deadline.check(f"GET {path}")
            timeout = deadline.bound(timeout)
        what = f"Kubernetes API answered GET {path}"
        for attempt in range(MAX_THROTTLED + 1):
            try:
                resp = self._api.get(url, headers, timeout)
            except Exception as exc:  # urllib3/ssl/exec-plugin errors: never a traceback
                if deadline is not None and timeout < self.options.request_timeout and deadline.remaining() <= MIN_WAIT:
                    # The wait was cut short by the deadline, not the server's own timeout: say so.
                    raise deadline.exceeded(f"GET {path}") from None
                raise _transport_error(exc, self.server) from None
            body = read_body(resp.response, what, deadline=deadline)
            after = retry_after_seconds((resp.headers or {}).get("Retry-After"))
            # API Priority and Fairness (429), or a server starting up / a proxy shedding load (5xx
            # with Retry-After): wait as asked, within bounds, as client-go does; past them, say what
            # the server asked for.
            if resp.status != 429 and not (resp.status >= 500 and after is not None):
                break
            wait = 1.0 if after is None else after
            left = deadline.remaining() if deadline is not None else float("inf")
            if attempt == MAX_THROTTLED or wait > MAX_RETRY_AFTER or wait >= left:
                if resp.status != 429:
                    break  # the 5xx itself is the answer to report
                raise _throttled(path, body, after, attempt)
            log.debug("GET %s → %s, waiting %.1f s as asked", path, resp.status, wait)
            time.sleep(wait)
            if deadline is not None:
                timeout = deadline.bound(self.options.request_timeout)
        log.debug("GET %s → %s (%d bytes)", path, resp.status, len(body))
        if resp.status == 404:
            raise _NotFound(path)
        if 300 <= resp.status < 400:
            target = urlsplit(resp.headers.get("Location") or "").hostname if resp.headers else None
            raise EvidenceError(
                f"Kubernetes API answered GET {path} with a redirect ({resp.status}"
                + (f" to {target}" if target else "")
                + "), which akslbctl does not follow",
                hint="check the server URL of the --context (a proxy or login page in between?)",
            )
        if resp.status >= 400:
            raise _status_error(resp.status, body, path, self.server, resp.headers)
        doc = loads(body, what)
        if not isinstance(doc, dict):
            raise MalformedAnswer(f"Kubernetes API answered {path} with a JSON {type(doc).__name__}, not an object")
        return doc, len(body)


def _check_request(server: str, method: str, url: str) -> None:
    """The one place every Kubernetes request passes: a GET, to the configured server's origin."""
    want, got = urlsplit(server), urlsplit(url)
    if method != "GET" or (want.scheme, want.netloc.lower()) != (got.scheme, got.netloc.lower()):
        raise EvidenceError(f"refused to send {method} to {got.hostname or '?'}: akslbctl only reads from {server}")


class _NotFound(EvidenceError):
    pass


def _status_message(body: bytes) -> str:
    """The ``message`` of a Status answer (bounded like any answer: a deep or huge error body is no
    message, not a crash)."""
    try:
        doc = loads(body, "Kubernetes API answered")
    except MalformedAnswer:
        return ""
    msg = doc.get("message") if isinstance(doc, dict) else None
    return str(msg)[:300] if msg else ""


def _throttled(path: str, body: bytes, after: float | None, attempt: int) -> EvidenceError:
    msg = _status_message(body)
    tried = f" {attempt + 1} times" if attempt else ""
    return EvidenceError(
        f"Kubernetes API is throttling requests: GET {path} answered 429 Too Many Requests{tried}"
        + (f" ({msg})" if msg else "")
        + " — API Priority and Fairness or a proxy shedding load",
        hint=f"the server asks to wait {after:.0f} s; try again then" if after else "try again in a minute",
    )


def _status_error(status: int, body: bytes, path: str, server: str, headers: Any = None) -> EvidenceError:
    msg = _status_message(body)
    if status == 401:
        return AuthError(
            f"Kubernetes API {server} rejected the credentials (401 Unauthorized)",
            hint="refresh them (az aks get-credentials, kubelogin) or pick another --context",
        )
    if status == 403:
        return Forbidden(
            f"Kubernetes API refused GET {path} (403 Forbidden{': ' + msg if msg else ''})",
            hint="akslbctl needs get/list on services, nodes and endpointslices",
        )
    return EvidenceError(f"Kubernetes API answered GET {path} with {status}{': ' + msg if msg else ''}")


def _transport_error(exc: Exception, server: str) -> EvidenceError:
    """What a failed request was, in one line: the network/VPN is named only where the server could
    not be reached at all."""
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    if "ConfigException" in name or "exec" in text.lower() and "plugin" in text.lower():
        return AuthError(f"kubeconfig credentials could not be obtained: {text[:200]}")
    lowered = text.lower()
    network = "check the network/VPN and the --context; 'kubectl cluster-info' tries the same server"
    tls = tls_problem(lowered)
    if tls is not None:
        if "expired" in tls or "not yet valid" in tls:
            hint = "the cluster's certificates may need rotating (az aks rotate-certs), or this machine's clock is off"
        elif "wrong name" in tls:
            hint = "check the server URL (and tls-server-name) of the --context"
        elif "plain http" in tls:
            hint = "check the scheme and port of the --context's server URL"
        else:
            hint = "check the kubeconfig's certificate-authority(-data) for the --context"
        return Unreachable(f"Kubernetes API server {server} failed the TLS handshake: {tls}", hint=hint)
    if "invalid header" in lowered or "header value" in lowered:
        return AuthError(
            f"the kubeconfig's credentials for {server} cannot be sent: a header value holds a control character",
            hint="check the token (or token file) of the --context's user",
        )
    if "read timed out" in lowered:
        why, hint = "accepted the connection but did not answer in time", "the server is overloaded or hanging"
    elif "timed out" in lowered or "timeout" in name.lower():
        why, hint = "did not answer in time", network
    elif "refused" in lowered:
        why, hint = "refused the connection", network
    elif "name or service not known" in lowered or "nodename nor servname" in lowered or "resolve" in lowered:
        why, hint = "has a host name that does not resolve", network
    elif "badstatusline" in lowered or "linetoolong" in lowered or "too many headers" in lowered:
        why = "answered with something that is not HTTP"
        hint = "check the server URL of the --context (is it an API server, on its port?)"
    elif "reset" in lowered or "remotedisconnected" in lowered or "connection aborted" in lowered:
        why = "dropped the connection without an answer"
        hint = "a proxy or load balancer in between may have cut it; retry, or check with --debug"
    elif "no route to host" in lowered or "network is unreachable" in lowered or "newconnectionerror" in lowered:
        why, hint = "could not be reached", network
    elif "locationparseerror" in lowered or "failed to parse" in lowered or "invalid url" in lowered:
        return UsageError(f"the kubeconfig's server URL {server!r} cannot be used: {text[:120]}")
    else:
        why, hint = f"failed the request ({name}: {text[:120]})", "retry with --debug to see more"
    return Unreachable(f"Kubernetes API server {server} {why}", hint=hint)


# -- configuration --------------------------------------------------------------------------


class _Client:
    """GETs through the kubernetes client's transport (``rest.RESTClientObject``: urllib3 with the
    configuration's TLS, client certificate and proxy) and credentials (``Configuration.auth_settings``,
    which runs the refresh hook of exec plugins and token files before each request)."""

    def __init__(self, configuration: Any, transport: Any) -> None:
        self.configuration = configuration
        self._rest = transport(configuration)

    def get(self, url: str, headers: dict[str, str], timeout: float) -> Any:
        auth = self.configuration.auth_settings().get("BearerToken")
        if auth and auth.get("value"):
            headers = {**headers, auth["key"]: auth["value"]}
        return self._rest.request("GET", url, headers=headers, _request_timeout=timeout)

    def close(self) -> None:
        self._rest.close()


def _connect(options: KubeOptions):
    """A client configured the way kubectl picks its configuration."""
    from urllib3.util.retry import Retry

    from akslbctl.sources import kubeclient

    k8s = kubeclient.load()
    ConfigException = k8s.ConfigException  # noqa: N806
    list_kube_config_contexts, load_kube_config = k8s.list_kube_config_contexts, k8s.load_kube_config
    cfg = k8s.Configuration()
    paths = kubeconfig_paths(options.kubeconfig)
    existing = kubeconfig_files(paths)
    if options.kubeconfig and not existing:
        raise UsageError(f"kubeconfig {options.kubeconfig} does not exist")
    namespace = options.namespace
    context = options.context
    if existing:
        joined = os.pathsep.join(existing)
        try:
            contexts, current = list_kube_config_contexts(config_file=joined)
        except ConfigException as exc:
            raise UsageError(f"kubeconfig {joined} is not usable: {_one_line(exc)}") from None
        except Exception as exc:  # YAML errors and worse
            raise UsageError(f"kubeconfig {joined} could not be read: {type(exc).__name__}") from None
        names = [c.get("name") for c in contexts or []]
        if context and context not in names:
            raise UsageError(
                f'context "{context}" not found in kubeconfig',
                hint=f"available: {', '.join(n for n in names if n) or 'none'}",
            )
        chosen = next((c for c in contexts or [] if c.get("name") == context), None) if context else current
        if chosen is None:
            raise UsageError("kubeconfig has no current context", hint="pass --context NAME")
        context = chosen.get("name")
        _check_referenced_files(existing, chosen)
        if namespace is None:
            namespace = (chosen.get("context") or {}).get("namespace")
        try:
            from akslbctl import private

            load_kube_config(
                config_file=joined,
                context=context,
                client_configuration=cfg,
                persist_config=False,
                temp_file_path=private.directory(),  # key files: in a 0700 folder removed at any ending
            )
        except ConfigException as exc:
            raise AuthError(f"kubeconfig context {context!r} is not usable: {_one_line(exc)}") from None
        except ValueError as exc:  # a server URL urllib's parser refuses (an IPv6 literal without "]")
            raise UsageError(f"kubeconfig context {context!r} is not usable: {_one_line(exc)}") from None
        except Exception as exc:  # exec plugins failing, unreadable certificate files …
            raise AuthError(f"kubeconfig context {context!r} could not be loaded: {_one_line(exc)}") from None
    elif os.environ.get("KUBERNETES_SERVICE_HOST"):
        try:
            k8s.load_incluster_config(client_configuration=cfg)
        except ConfigException as exc:
            raise AuthError(f"in-cluster configuration is not usable: {_one_line(exc)}") from None
        context = "in-cluster"
        if namespace is None:
            namespace = os.environ.get("POD_NAMESPACE") or _read(os.path.join(SA_DIR, "namespace"))
    else:
        raise EvidenceError(
            f"no kubeconfig found (looked for {', '.join(paths)})",
            hint="pass --kubeconfig, set KUBECONFIG, or run 'az aks get-credentials'",
        )
    try:
        scheme = urlsplit(cfg.host or "").scheme
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https"):
        raise UsageError(f"the server of kubeconfig context {context!r}, {cfg.host!r}, is not an http(s) URL")
    problem = url_port_problem(cfg.host or "")
    if problem:
        raise UsageError(f"the server of kubeconfig context {context!r}, {cfg.host!r}, {problem}")
    _clean_token(cfg, context)
    _one_insecure_warning(cfg, context)
    # One quick retry on a dropped connection, none on statuses: the caller reports those.
    # No redirect is followed (credentials go to the configured server only): a 3xx is returned to
    # _get, which says what it was.
    # A 429/503 with Retry-After is returned too (urllib3 would retry it, then raise): _get rides it out.
    cfg.retries = Retry(
        total=1,
        connect=1,
        read=0,
        redirect=0,
        status=0,
        other=0,
        raise_on_redirect=False,
        raise_on_status=False,
        respect_retry_after_header=False,
    )
    return _Client(cfg, k8s.RESTClientObject), namespace or "default", cfg.host, context


def _clean_token(cfg: Any, context: str | None) -> None:
    """The bearer token as client-go sends it: whitespace around it (a token file's final newline, a
    CR from a file saved on Windows) trimmed; a control character inside it is one clear line, not a
    request that http.client refuses with an obscure error. The kubernetes client sets the token again
    before every request (its refresh hook, for exec plugins and token files), so the hook is wrapped."""
    original = cfg.refresh_api_key_hook

    def clean(c: Any) -> None:
        for key, value in list((c.api_key or {}).items()):
            if not isinstance(value, str):
                continue
            scheme, sep, token = value.strip().partition(" ")
            token = token.strip() if sep else scheme
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in token):
                raise UsageError(
                    f"the token of kubeconfig context {context!r} holds a control character",
                    hint="check the token (or tokenFile) of the context's user",
                )
            c.api_key[key] = f"{scheme} {token}" if sep else token

    def hook(c: Any) -> None:
        if original is not None:
            original(c)  # (which installs itself as the hook again: put this one back)
        c.refresh_api_key_hook = hook
        clean(c)

    clean(cfg)
    cfg.refresh_api_key_hook = hook


def _one_insecure_warning(cfg: Any, context: str | None) -> None:
    """``insecure-skip-tls-verify``: one warning line for the run (through akslbctl.notices), not
    urllib3's InsecureRequestWarning for every request."""
    if cfg.verify_ssl:
        return
    import warnings

    from urllib3.exceptions import InsecureRequestWarning

    warnings.filterwarnings("ignore", category=InsecureRequestWarning)
    from akslbctl import notices

    notices.warn(
        f"kubeconfig context {context!r} sets insecure-skip-tls-verify: the identity of {cfg.host} is not checked"
    )


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
