"""No credential ever leaves akslbctl: every command, with --debug, against a lab whose kubeconfig
carries a bearer token, a client certificate key and a basic-auth password, with AKSLBCTL_ARM_TOKEN
and AZURE_CLIENT_SECRET set. None of those values may appear in stdout, stderr, or any file the run
leaves behind (case files, SVGs, the completion cache, temporary files)."""

from __future__ import annotations

import base64
import datetime
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from akslbctl.lab.httpserver import Fault
from akslbctl.lab.runner import Lab

PASSWORD = "basic-auth-password-6f2b9d41"
CLIENT_SECRET = "azure-client-secret-91c7e3aa"


def _client_certificate() -> tuple[bytes, bytes]:
    """A throwaway client certificate and its private key (PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "akslbctl-test-user")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def secret_world(lab: Lab, tmp: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The environment of a run against ``lab`` whose every credential is known, and those credentials."""
    cert_pem, key_pem = _client_certificate()
    key_data = base64.b64encode(key_pem).decode()
    user = {
        "token": lab.kube_token,
        "client-certificate-data": base64.b64encode(cert_pem).decode(),
        "client-key-data": key_data,
        "username": "admin",
        "password": PASSWORD,
    }
    cluster = {"server": lab.kube_url, "certificate-authority": str(lab.ca_file)}
    kubeconfig = tmp / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "lab", "cluster": cluster}],
                "users": [{"name": "u", "user": user}],
                "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "u", "namespace": "default"}}],
                "current-context": "lab",
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AKSLBCTL_", "KUBE"))}
    env.update(lab.env)
    env.update(
        KUBECONFIG=str(kubeconfig),
        AZURE_CLIENT_SECRET=CLIENT_SECRET,
        AZURE_CLIENT_ID="00000000-0000-0000-0000-00000000c1d0",
        AZURE_TENANT_ID="00000000-0000-0000-0000-0000000007e7",
        HOME=str(tmp / "home"),
        XDG_CACHE_HOME=str(tmp / "cache"),
        TMPDIR=str(tmp / "tmp"),  # where the kubernetes client writes the client key for TLS
        COLUMNS="120",
    )
    (tmp / "home").mkdir(exist_ok=True)
    (tmp / "tmp").mkdir(exist_ok=True)
    secrets = {
        "kube token": lab.kube_token,
        "ARM token": lab.arm_token,
        "client key data": key_data,
        "client key": "".join(key_pem.decode().splitlines()[1:-1]),  # the base64 of the key itself
        "basic-auth password": PASSWORD,
        "AZURE_CLIENT_SECRET": CLIENT_SECRET,
    }
    return env, secrets


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secrets")
    lab = Lab("local-http").start()
    try:
        env, secrets = secret_world(lab, tmp)
        yield tmp, env, secrets
    finally:
        lab.stop()


COMMANDS = {
    "explain": ["explain", "svc/web", "--debug"],
    "explain-json": ["explain", "svc/web", "-o", "json", "--debug"],
    "explain-svg": ["explain", "svc/web", "--svg", "{tmp}/report.svg", "--debug"],
    "diff": ["diff", "svc/web", "--debug"],
    "probe": ["probe", "svc/web", "--count", "1", "--interval", "0", "--debug"],
    "capture": ["capture", "svc/web", "-f", "{tmp}/case.json", "--debug"],
    "capture-redact": ["capture", "svc/web", "-f", "{tmp}/redacted.json", "--redact", "--debug"],
    "explain-case": ["explain", "-f", "{tmp}/case.json", "--debug"],
    "lab-run": ["lab", "run", "cluster-tcp", "--", "explain", "svc/web", "--debug"],
    "complete-services": ["__complete", "explain", ""],
    "complete-namespaces": ["__complete", "explain", "-n", ""],
    "completion": ["completion", "bash"],
    "bad-context": ["explain", "svc/web", "--context", "nosuch", "--debug"],
    "bad-token": ["explain", "svc/web", "--debug"],  # ARM refuses the token: the error line must not echo it
}


# Completion's API lookup gives up after candidates.DEADLINE (2 s, the kubernetes client's import
# included) and REQUEST_TIMEOUT (1 s): right for a TAB, too short for a loaded machine running four of
# these at once. Nothing in the environment changes them, so the completion runs are the same entry
# (``akslbctl.entry.main``, as ``python -m akslbctl``) with both raised: the lookup must succeed, or the
# cache file and the candidates this test looks into for secrets would not be there.
PATIENT_COMPLETION = (
    "from akslbctl.cli import candidates; candidates.DEADLINE = 60.0; candidates.REQUEST_TIMEOUT = 30.0; "
    "from akslbctl.entry import main; main()"
)


def _run(name: str, argv: list[str], tmp: Path, env: dict[str, str]) -> tuple[str, int, str, str]:
    run_env = dict(env)
    if name == "bad-token":
        run_env["AKSLBCTL_ARM_TOKEN"] = env["AKSLBCTL_ARM_TOKEN"][::-1]
    args = [a.replace("{tmp}", str(tmp)) for a in argv]
    program = ["-c", PATIENT_COMPLETION] if args[0] == "__complete" else ["-m", "akslbctl"]
    proc = subprocess.run([sys.executable, *program, *args], env=run_env, capture_output=True, text=True, timeout=120)
    return name, proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def runs(world):
    tmp, env, _ = world
    order = [n for n in COMMANDS if n != "explain-case"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda n: _run(n, COMMANDS[n], tmp, env), order))
    results.append(_run("explain-case", COMMANDS["explain-case"], tmp, env))  # reads what capture wrote
    return {r[0]: r[1:] for r in results}


def test_every_command_ran(runs):
    codes = {name: code for name, (code, _, _) in runs.items()}
    assert codes["explain"] == codes["explain-json"] == codes["diff"] == 0
    assert codes["probe"] == codes["capture"] == codes["capture-redact"] == codes["explain-case"] == 0
    assert codes["lab-run"] == codes["completion"] == codes["complete-services"] == codes["complete-namespaces"] == 0
    assert codes["bad-context"] == 2 and codes["bad-token"] == 3
    # --debug did log: request lines, so there was something to leak
    assert (
        "debug: akslbctl" in runs["explain"][2] and "GET /api/v1/namespaces/default/services/web" in runs["explain"][2]
    )
    assert "svc/web" in runs["complete-services"][1]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_no_secret_in_stdout_or_stderr(runs, world, name):
    _, _, secrets = world
    _, out, err = runs[name]
    for what, value in secrets.items():
        assert value not in out, f"{what} in stdout of {name}"
        assert value not in err, f"{what} in stderr of {name}"
    assert "Authorization" not in err and "Bearer " not in err


def test_no_secret_in_any_file_written(runs, world):
    tmp, _, secrets = world
    written = [p for p in tmp.rglob("*") if p.is_file() and p.name != "kubeconfig"]
    names = {p.name for p in written}
    assert {"case.json", "redacted.json", "report.svg"} <= names
    for path in written:
        data = path.read_bytes()
        for what, value in secrets.items():
            assert value.encode() not in data, f"{what} in {path.relative_to(tmp)}"
    # the kubernetes client writes the client key to a temporary file for TLS; it is gone at exit
    assert not [p for p in (tmp / "tmp").rglob("*") if p.is_file()]


def test_a_run_ended_by_its_deadline_leaves_no_client_key_behind(tmp_path):
    """The Node list hangs: the deadline ends the run with its request thread still blocked, so the
    process leaves through os._exit — and the kubernetes client's temporary file with the client key
    must still be removed (its atexit cleanup), as after any other run."""
    with Lab("cluster-tcp") as lab:
        lab.add_fault(Fault(api="kube", route="kube.nodes.list", hang=True))
        env, secrets = secret_world(lab, tmp_path)
        proc = subprocess.run(
            [sys.executable, "-m", "akslbctl", "explain", "svc/web", "--deadline", "2", "--debug"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 3 and "within the 2 s deadline" in proc.stderr
    assert not [p for p in (tmp_path / "tmp").rglob("*") if p.is_file()]
    for value in secrets.values():
        assert value not in proc.stdout + proc.stderr
