"""The parts of the ``kubernetes`` package akslbctl uses, loaded without the rest.

akslbctl reads through the kubernetes client's own configuration (kubeconfig merging, contexts,
exec plugins, token files, in-cluster service accounts: ``kubernetes.config``), its ``Configuration``
and its urllib3 transport (``kubernetes.client.rest``: TLS, client certificates, proxies). Importing
any of them the ordinary way runs ``kubernetes/__init__.py`` and ``kubernetes/client/__init__.py``
first, which load the generated API classes, the pydantic machinery, the watch, stream and dynamic
clients: ~0.25 s of a 1 s explain, for code akslbctl never calls.

:func:`load` imports the submodules it needs under *lazy packages*: ``kubernetes``,
``kubernetes.client``, ``kubernetes.config`` and ``kubernetes.utils`` are registered as package
modules with their real ``__path__`` and spec but without running their ``__init__``. The first
access to a name such a package does not hold yet (``kubernetes.client.CoreV1Api``, ``from
kubernetes import watch``) runs the real ``__init__`` into it, so any other code in the process that
uses the kubernetes package sees the whole package, as if it had been imported normally. When the
package is already loaded, or its layout is not the one expected, the ordinary imports are used.

``kubernetes.config.kube_config`` also imports ``oauthlib.oauth2`` and ``requests_oauthlib`` (with
``requests``) at its top, ~45 ms before the first request, for one code path: refreshing an OIDC
token (``OAuth2Session``, ``oauthlib.oauth2.rfc6749.errors``). They are lazy packages too while it
loads, ``OAuth2Session`` a stand-in that builds the real session when called: the OIDC refresh, and
any other code in the process, get the real packages when they first use them.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from typing import Any

from akslbctl.records import record

_LAZY = ("kubernetes", "kubernetes.client", "kubernetes.config", "kubernetes.utils")
# Only kube_config's OIDC refresh uses these; lazy when nothing in the process has loaded them yet.
_LAZY_OPTIONAL = ("oauthlib", "oauthlib.oauth2", "requests_oauthlib")
_LOCK = threading.RLock()
_LOADED: Client | None = None


@record
class Client:
    """What akslbctl uses of the kubernetes package."""

    Configuration: Any  # kubernetes.client.configuration.Configuration
    RESTClientObject: Any  # kubernetes.client.rest.RESTClientObject (urllib3)
    ConfigException: Any
    list_kube_config_contexts: Any
    load_kube_config: Any
    load_incluster_config: Any


class _LazyPackage(types.ModuleType):
    """A package whose ``__init__`` runs at the first access to a name it does not hold yet."""

    _akslbctl_state = "lean"  # "lean": loaded without __init__; "running": __init__ running; "whole"

    def __getattr__(self, name: str) -> Any:
        # Dunder probes (the import system's, pickle's, inspect's) never complete the package.
        if name.startswith("__") and name != "__all__":
            raise AttributeError(name)
        with _LOCK:
            if self.__dict__.get("_akslbctl_state", "lean") == "lean" and _LOADED is not None:
                _complete(self)
        namespace = self.__dict__
        if name in namespace:
            return namespace[name]
        hook = namespace.get("__getattr__")  # the package's own (PEP 562): kubernetes.client loads its APIs so
        if hook is not None:
            return hook(name)
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")


def _complete(module: _LazyPackage) -> None:
    """Run the package's real ``__init__`` into it (under ``_LOCK``), its stand-ins dropped first."""
    module._akslbctl_state = "running"
    for name, value in list(module.__dict__.items()):
        if any(value is stand_in for stand_in in _STAND_INS):  # never getattr: a lazy submodule would load
            del module.__dict__[name]  # the package's own name for the real object, from now on
    try:
        module.__spec__.loader.exec_module(module)
    finally:
        module._akslbctl_state = "whole"


class _ApiClientOnDemand:
    """``kubernetes.config`` names ``ApiClient`` (to refresh OIDC tokens, and in ``new_client_from_config``):
    this stands in for it and builds the real one, with pydantic and all, only when it is called."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.api_client import ApiClient

        return ApiClient(*args, **kwargs)


class _OAuth2SessionOnDemand:
    """``requests_oauthlib.OAuth2Session`` as ``kube_config`` imports it (for the OIDC refresh): the real
    session, with requests and oauthlib loaded then, when it is called."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        package = sys.modules.get("requests_oauthlib")
        if isinstance(package, _LazyPackage):
            with _LOCK:
                if package.__dict__.get("_akslbctl_state", "lean") == "lean":
                    _complete(package)
        from requests_oauthlib import OAuth2Session

        return OAuth2Session(*args, **kwargs)


_STAND_INS = (_ApiClientOnDemand, _OAuth2SessionOnDemand)


def load() -> Client:
    """The kubernetes package's configuration loaders and transport (once per process)."""
    global _LOADED
    with _LOCK:
        if _LOADED is None:
            client = None
            if "kubernetes" not in sys.modules:
                try:
                    client = _lean()
                except Exception:  # a layout this loader does not know: import the package as usual
                    _undo()
            _LOADED = client or _ordinary()
        return _LOADED


def _register(name: str) -> _LazyPackage:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None or spec.loader is None:
        raise ImportError(name)
    module = _LazyPackage(name)
    module.__spec__ = spec
    module.__loader__ = spec.loader
    module.__file__ = spec.origin
    module.__path__ = list(spec.submodule_search_locations)
    module.__package__ = name
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


def _lean() -> Client:
    for name in _LAZY:
        _register(name)
    if not any(name in sys.modules for name in _LAZY_OPTIONAL):
        for name in _LAZY_OPTIONAL:
            _register(name)
        sys.modules["requests_oauthlib"].OAuth2Session = _OAuth2SessionOnDemand
    from kubernetes.client.configuration import Configuration

    package = sys.modules["kubernetes.client"]
    package.Configuration = Configuration
    package.ApiClient = _ApiClientOnDemand
    from kubernetes.client.rest import RESTClientObject
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.incluster_config import load_incluster_config
    from kubernetes.config.kube_config import list_kube_config_contexts, load_kube_config

    oauth = sys.modules.get("requests_oauthlib")
    if isinstance(oauth, _LazyPackage) and oauth.__dict__.get("OAuth2Session") is _OAuth2SessionOnDemand:
        # kube_config holds the stand-in now; anyone else asking the package for the name gets the real class.
        del oauth.__dict__["OAuth2Session"]
    return Client(
        Configuration=Configuration,
        RESTClientObject=RESTClientObject,
        ConfigException=ConfigException,
        list_kube_config_contexts=list_kube_config_contexts,
        load_kube_config=load_kube_config,
        load_incluster_config=load_incluster_config,
    )


def _undo() -> None:
    for name in (*_LAZY, *_LAZY_OPTIONAL):
        if isinstance(sys.modules.get(name), _LazyPackage):
            del sys.modules[name]


def _ordinary() -> Client:
    from kubernetes.client import Configuration
    from kubernetes.client.rest import RESTClientObject
    from kubernetes.config import ConfigException, list_kube_config_contexts, load_incluster_config, load_kube_config

    return Client(
        Configuration=Configuration,
        RESTClientObject=RESTClientObject,
        ConfigException=ConfigException,
        list_kube_config_contexts=list_kube_config_contexts,
        load_kube_config=load_kube_config,
        load_incluster_config=load_incluster_config,
    )

