"""akslbctl.sources.kubeclient: the kubernetes package's loaders and transport without the package's
``__init__`` — and the whole package for any other code in the process that asks for it.

Each case runs in a fresh interpreter: what is imported is the point."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def _run(code: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_lean_load_imports_neither_pydantic_nor_the_generated_api():
    out = _run(
        """
        import json, sys
        from akslbctl.sources import kubeclient
        k = kubeclient.load()
        cfg = k.Configuration()
        cfg.host = "https://127.0.0.1:6443"
        k.RESTClientObject(cfg).close()
        print(json.dumps({
            "lazy": type(sys.modules["kubernetes"]).__name__,
            "pydantic": "pydantic" in sys.modules,
            "api_client": "kubernetes.client.api_client" in sys.modules,
            "core_api": "kubernetes.client.api.core_v1_api" in sys.modules,
            "watch": "kubernetes.watch" in sys.modules,
            "same": kubeclient.load() is k,
            "oidc": [m for m in ("requests", "requests_oauthlib.oauth2_session", "oauthlib.oauth2.rfc6749")
                     if m in sys.modules],
        }))
        """
    )
    assert out == {
        "lazy": "_LazyPackage",
        "pydantic": False,
        "api_client": False,
        "core_api": False,
        "watch": False,
        "same": True,
        "oidc": [],
    }


def test_other_code_gets_the_whole_package_after_a_lean_load():
    out = _run(
        """
        import json, sys
        from akslbctl.sources import kubeclient
        k = kubeclient.load()
        import kubernetes
        from kubernetes import client, config, watch
        from kubernetes.client.api_client import ApiClient
        from kubernetes.client.exceptions import NotFoundException
        api = client.CoreV1Api
        print(json.dumps({
            "version": kubernetes.__version__ == client.__version__,
            "core_api": api.__name__,
            "api_client": client.ApiClient is ApiClient,
            "configuration": client.Configuration is k.Configuration,
            "loader": config.load_kube_config is k.load_kube_config,
            "watch": watch.Watch.__name__,
            "missing": not hasattr(client, "NoSuchApi"),
            "dunder": not hasattr(sys.modules["kubernetes.utils"], "__wrapped__"),
            "utils": callable(kubernetes.utils.create_from_yaml),
            "not_found": issubclass(NotFoundException, Exception),
        }))
        """
    )
    assert out == {
        "version": True,
        "core_api": "CoreV1Api",
        "api_client": True,
        "configuration": True,
        "loader": True,
        "watch": "Watch",
        "missing": True,
        "dunder": True,
        "utils": True,
        "not_found": True,
    }


def test_the_oidc_refresh_client_is_the_real_api_client():
    # kubernetes.config.kube_config refreshes OIDC tokens with ApiClient(configuration=…): that name is
    # a stand-in until it is called, then the package's own class.
    out = _run(
        """
        import json
        from akslbctl.sources import kubeclient
        kubeclient.load()
        from kubernetes.config import kube_config
        from kubernetes.client.configuration import Configuration
        cfg = Configuration()
        cfg.host = "https://127.0.0.1:6443"
        made = kube_config.ApiClient(configuration=cfg)
        from kubernetes.client.api_client import ApiClient
        print(json.dumps({"real": type(made) is ApiClient, "cfg": made.configuration is cfg}))
        """
    )
    assert out == {"real": True, "cfg": True}


def test_the_oidc_refresh_gets_the_real_oauth_session_and_errors():
    # kube_config refreshes an OIDC token with requests_oauthlib.OAuth2Session and catches
    # oauthlib.oauth2.rfc6749.errors.InvalidClientIdError: both real when used, and so for any other code.
    out = _run(
        """
        import json, sys
        from akslbctl.sources import kubeclient
        kubeclient.load()
        from kubernetes.config import kube_config
        import requests_oauthlib
        other = requests_oauthlib.OAuth2Session  # what other code asking the package gets: the real class
        session = kube_config.OAuth2Session(client_id="akslbctl")
        from requests_oauthlib import OAuth1
        from oauthlib.oauth2.rfc6749.errors import InvalidClientIdError
        print(json.dumps({
            "session": type(session) is requests_oauthlib.OAuth2Session is other,
            "module": type(session).__module__,
            "error": kube_config.oauthlib.oauth2.rfc6749.errors.InvalidClientIdError is InvalidClientIdError,
            "oauth1": OAuth1.__name__,
            "debug": sys.modules["oauthlib"].get_debug(),
        }))
        """
    )
    assert out == {
        "session": True,
        "module": "requests_oauthlib.oauth2_session",
        "error": True,
        "oauth1": "OAuth1",
        "debug": False,
    }


def test_an_oauthlib_already_loaded_is_used_as_it_is():
    out = _run(
        """
        import json, sys
        import requests_oauthlib
        from akslbctl.sources import kubeclient
        kubeclient.load()
        from kubernetes.config import kube_config
        print(json.dumps({
            "kinds": sorted({type(sys.modules[m]).__name__ for m in ("oauthlib", "requests_oauthlib")}),
            "session": kube_config.OAuth2Session is requests_oauthlib.OAuth2Session,
        }))
        """
    )
    assert out == {"kinds": ["module"], "session": True}


def test_an_imported_package_is_used_as_it_is():
    out = _run(
        """
        import json, sys
        import kubernetes.client
        from akslbctl.sources import kubeclient
        k = kubeclient.load()
        print(json.dumps({
            "kind": type(sys.modules["kubernetes"]).__name__,
            "configuration": k.Configuration is kubernetes.client.Configuration,
        }))
        """
    )
    assert out == {"kind": "module", "configuration": True}


def test_an_unknown_layout_falls_back_to_the_ordinary_import():
    # A kubernetes release without one of the packages the lean load expects: no half-registered
    # package is left behind, and the ordinary import serves.
    out = _run(
        """
        import importlib.util, json, sys
        real = importlib.util.find_spec
        importlib.util.find_spec = lambda name, *a: None if name == "kubernetes.utils" else real(name, *a)
        from akslbctl.sources import kubeclient
        k = kubeclient.load()
        importlib.util.find_spec = real
        print(json.dumps({
            "kind": type(sys.modules["kubernetes"]).__name__,
            "lazy_left": [n for n, m in sys.modules.items() if type(m).__name__ == "_LazyPackage"],
            "loader": callable(k.load_kube_config),
        }))
        """
    )
    assert out == {"kind": "module", "lazy_left": [], "loader": True}
