"""Shell completion: the cobra ``__complete`` protocol, the generated spec and scripts, each shell's
script driven by the real shell, the start-up cost of a TAB, and the kubectl plugin entry points."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import cli

from akslbctl import entry
from akslbctl.cli import candidates, complete, shells, specgen
from akslbctl.cli._spec import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("typer", "click", "rich", "httpx", "kubernetes", "azure", "pydantic", "urllib3", "yaml")


def ask(*words: str, request: str = "__complete") -> tuple[list[str], int]:
    """The candidate lines and the directive of one request, checking the protocol's framing."""
    text = complete.answer(request, list(words))
    assert text.endswith("\n")
    lines = text[:-1].split("\n")
    assert re.fullmatch(r":\d+", lines[-1]), text
    for line in lines[:-1]:
        assert line and line.count("\t") <= 1 and "\n" not in line
    return lines[:-1], int(lines[-1][1:])


def values(*words: str) -> list[str]:
    lines, _ = ask(*words)
    return [line.split("\t")[0] for line in lines]


@pytest.fixture
def no_api(monkeypatch):
    """Fail the test if a candidate would need the Kubernetes API."""

    def refuse(scope):
        raise AssertionError("the API was asked")

    monkeypatch.setattr(candidates, "services", refuse)
    monkeypatch.setattr(candidates, "namespaces", refuse)


@pytest.fixture
def fake_services(monkeypatch):
    """Two LoadBalancer Services, and the scope each lookup was asked for."""
    asked = []

    def services(scope):
        asked.append((scope.kubeconfig, scope.context, scope.namespace))
        return [("api", "20.31.40.11 · TCP 443"), ("web", "20.31.40.10 · TCP 80")]

    monkeypatch.setattr(candidates, "services", services)
    return asked


# -- the protocol --------------------------------------------------------------------------------------


def test_directive_bits_are_cobras():
    assert (complete.ERROR, complete.NO_SPACE, complete.NO_FILE) == (1, 2, 4)
    assert (complete.FILTER_EXT, complete.FILTER_DIRS, complete.KEEP_ORDER) == (8, 16, 32)


def test_subcommands_with_descriptions_and_no_file_completion(no_api):
    lines, directive = ask("")
    assert [line.split("\t")[0] for line in lines] == [
        "explain",
        "probe",
        "diff",
        "capture",
        "completion",
        "version",
        "lab",
    ]
    assert lines[0] == "explain\tWhich nodes the Azure LB treats as up for a Service, and why"
    assert directive == 4


def test_nodesc_request_strips_descriptions(no_api):
    lines, directive = ask("", request="__completeNoDesc")
    assert lines == ["explain", "probe", "diff", "capture", "completion", "version", "lab"]
    assert directive == 4


def test_subcommand_prefix(no_api):
    assert values("ex") == ["explain"]
    assert values("c") == ["capture", "completion"]
    assert ask("zzz") == ([], 4)  # no match: still exit 0 and a directive


def test_flags_long_and_short_for_a_dash(no_api):
    got = values("explain", "-")
    for flag in ("--namespace", "-n", "--output", "-o", "--all-namespaces", "-A", "--selector", "-l", "--tree"):
        assert flag in got
    assert ask("explain", "-")[1] == 4


def test_double_dash_offers_long_flags_only(no_api):
    got = values("explain", "--")
    assert "--output" in got and "-o" not in got


def test_flag_prefix_and_description(no_api):
    lines, directive = ask("explain", "--out")
    assert lines == ["--output\ttable, wide, json or yaml"] and directive == 4


def test_flags_already_given_are_not_offered_again(no_api):
    got = values("explain", "-o", "json", "--")
    assert "--output" not in got and "--namespace" in got


def test_output_values_per_command(no_api):
    assert values("explain", "-o", "") == ["table", "wide", "json", "yaml"]
    assert values("probe", "-o", "") == ["table", "json"]
    assert values("diff", "--output", "") == ["table", "json", "yaml"]
    assert values("explain", "-o", "j") == ["json"]


def test_output_value_after_equals(no_api):
    assert ask("explain", "--output=y") == (["yaml\tversioned YAML document"], 4)
    assert values("explain", "-o=w") == ["wide"]


def test_unknown_flag_with_value_is_an_error_directive(no_api):
    assert ask("explain", "--bogus=1") == ([], 1)


def test_file_options_fall_back_to_the_shells_file_completion(no_api):
    assert ask("explain", "-f", "") == ([], 0)
    assert ask("explain", "--kubeconfig", "") == ([], 0)
    assert ask("capture", "--filename", "case") == ([], 0)


def test_svg_completes_svg_files_only(no_api):
    assert ask("explain", "--svg", "") == (["svg"], 8)


def test_png_completes_png_files_only(no_api):
    assert ask("explain", "--png", "") == (["png"], 8)


def test_values_without_candidates_do_not_complete_files(no_api):
    assert ask("explain", "--timeout", "") == ([], 4)
    assert ask("explain", "-l", "") == ([], 4)


def test_nothing_after_help_or_version(no_api):
    assert ask("explain", "--help", "") == ([], 4)
    assert ask("explain", "-h", "") == ([], 4)
    assert ask("--version", "") == ([], 4)


def test_completion_shells(no_api):
    assert values("completion", "") == ["bash", "zsh", "fish", "powershell"]


def test_lab_subcommands_and_scenarios(no_api):
    assert values("lab", "") == ["list", "run", "up"]
    scenarios = values("lab", "run", "")
    assert "multi-service" in scenarios and "cluster-tcp" in scenarios
    assert values("lab", "up", "multi") == ["multi-service"]


def test_lab_run_completes_the_command_after_dashes_without_the_api(no_api):
    assert values("lab", "run", "cluster-tcp", "--", "ex") == ["explain"]
    assert values("lab", "run", "cluster-tcp", "--", "explain", "-o", "") == ["table", "wide", "json", "yaml"]
    assert ask("lab", "run", "cluster-tcp", "--", "explain", "") == ([], 4)
    assert values("lab", "run", "cluster-tcp", "di") == ["diff"]  # without '--' too


def test_service_argument_is_svc_slash_name(fake_services):
    lines, directive = ask("explain", "")
    assert lines == ["svc/api\t20.31.40.11 · TCP 443", "svc/web\t20.31.40.10 · TCP 80"]
    assert directive == 4
    assert values("explain", "svc/w") == ["svc/web"]
    assert values("probe", "s") == ["svc/api", "svc/web"]


def test_service_argument_keeps_the_type_the_user_typed(fake_services):
    assert values("diff", "service/") == ["service/api", "service/web"]
    assert values("explain", "SVC/a") == ["SVC/api"]
    assert values("explain", "deploy/") == []


def test_bare_names_after_a_separate_type_or_a_bare_prefix(fake_services):
    assert values("explain", "svc", "") == ["api", "web"]
    assert values("explain", "we") == ["web"]


def test_one_service_per_command(fake_services):
    assert ask("explain", "svc/web", "") == ([], 4)


def test_namespace_and_connection_flags_reach_the_lookup(fake_services):
    values("explain", "-n", "shop", "--context", "prod", "--kubeconfig", "/k", "")
    values("explain", "--namespace=shop", "")
    values("explain", "-nshop", "")
    assert fake_services == [("/k", "prod", "shop"), (None, None, "shop"), (None, None, "shop")]


def test_no_service_candidates_with_all_namespaces_selector_or_case_file(no_api):
    assert ask("explain", "-A", "") == ([], 4)
    assert ask("explain", "-l", "app=web", "") == ([], 4)
    assert ask("explain", "-f", "case.json", "") == ([], 4)


def test_an_api_failure_is_directive_1_and_no_candidates(monkeypatch):
    def broken(scope):
        raise candidates.LookupFailed("services")

    monkeypatch.setattr(candidates, "services", broken)
    assert complete.answer("__complete", ["explain", ""]) == ":1\n"


def test_contexts_come_from_the_kubeconfig_files_merged(tmp_path, monkeypatch, no_api):
    first = tmp_path / "a.yaml"
    second = tmp_path / "b.yaml"
    first.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: prod\n"
        "contexts:\n- name: prod\n  context: {cluster: aks-prod, namespace: shop}\n"
        "- name: dev\n  context: {cluster: aks-dev}\n"
    )
    second.write_text("contexts:\n- name: dev\n  context: {cluster: other}\n- name: lab\n  context: {cluster: lab}\n")
    monkeypatch.setenv("KUBECONFIG", f"{first}{os.pathsep}{second}")
    lines, directive = ask("explain", "--context", "")
    assert lines == [
        "prod\tcluster aks-prod, namespace shop (current)",
        "dev\tcluster aks-dev",  # the first file naming a context wins, as kubectl merges
        "lab\tcluster lab",
    ]
    assert directive == 4
    assert values("explain", "--kubeconfig", str(second), "--context", "") == ["dev", "lab"]
    assert values("explain", "--context=p") == ["prod"]


def test_unreadable_kubeconfig_gives_no_contexts(tmp_path, monkeypatch, no_api):
    bad = tmp_path / "bad"
    bad.write_text("contexts: [unclosed\n")
    monkeypatch.setenv("KUBECONFIG", str(bad))
    assert ask("explain", "--context", "") == ([], 4)


def test_service_descriptions():
    doc = {
        "metadata": {"name": "store", "annotations": {candidates.INTERNAL_ANNOTATION: "true"}},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 8080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "10.224.0.5"}]}},
    }
    assert candidates.service_description(doc) == "internal 10.224.0.5 · TCP 8080, UDP 53"
    pending = {"metadata": {"name": "x"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}
    assert candidates.service_description(pending) == "no IP yet · TCP 80"


def test_only_services_the_azure_provider_manages_are_candidates():
    lb = {"metadata": {"name": "web"}, "spec": {"type": "LoadBalancer"}}
    classed = {"metadata": {"name": "x"}, "spec": {"type": "LoadBalancer", "loadBalancerClass": "example.com/lb"}}
    cluster_ip = {"metadata": {"name": "cache"}, "spec": {"type": "ClusterIP"}}
    assert [candidates._diagnosable(d) for d in (lb, classed, cluster_ip)] == [True, False, False]


def test_stale_cache_entries_are_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = candidates.cache_file("services", candidates.Scope())
    assert path.startswith(str(tmp_path / "akslbctl" / "complete"))
    candidates._write_cache(path, [("web", "")])
    assert candidates._read_cache(path) == [("web", "")]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    monkeypatch.setattr(candidates, "CACHE_TTL", 0.0)
    assert candidates._read_cache(path) is None


def test_cache_key_follows_context_namespace_and_kubeconfig(tmp_path, monkeypatch):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("contexts: []\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    base = candidates.cache_file("services", candidates.Scope())
    assert candidates.cache_file("services", candidates.Scope(namespace="shop")) != base
    assert candidates.cache_file("services", candidates.Scope(context="prod")) != base
    assert candidates.cache_file("namespaces", candidates.Scope()) != base
    os.utime(kubeconfig, ns=(1, 1))  # kubectl config use-context rewrites the file
    assert candidates.cache_file("services", candidates.Scope()) != base


# -- the real entry point: exit 0, protocol only, no heavy imports -------------------------------------


def run_entry(*args: str, env: dict | None = None, importtime: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "akslbctl", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=60)


def imported(stderr: str) -> set[str]:
    """Top-level package names from ``-X importtime`` output."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.mark.parametrize(
    "words",
    [("",), ("explain", "--"), ("explain", "-o", ""), ("lab", "run", ""), ("completion", "")],
)
def test_static_completion_imports_nothing_heavy(words):
    proc = run_entry("__complete", *words, importtime=True)
    assert proc.returncode == 0
    assert proc.stdout.endswith(":4\n")
    heavy = imported(proc.stderr) & set(HEAVY)
    assert not heavy, f"completion imported {sorted(heavy)}"
    assert "akslbctl" in imported(proc.stderr)


def test_context_completion_reads_yaml_but_no_client(tmp_path):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("contexts:\n- name: lab\n  context: {cluster: lab}\n")
    proc = run_entry("__complete", "explain", "--kubeconfig", str(kubeconfig), "--context", "", importtime=True)
    assert proc.stdout == "lab\tcluster lab\n:4\n"
    assert not imported(proc.stderr) & {"kubernetes", "typer", "rich", "httpx", "azure", "pydantic"}


def test_failure_prints_only_the_directive_and_exits_0(tmp_path):
    # No kubeconfig at all: the Service lookup fails; nothing but ':1' may reach the command line.
    proc = run_entry(
        "__complete",
        "explain",
        "",
        env={"HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "missing"), "XDG_CACHE_HOME": str(tmp_path)},
    )
    assert (proc.returncode, proc.stdout) == (0, ":1\n")
    assert proc.stderr == ""


# -- generated files: stale checks ----------------------------------------------------------------------


def _regen():
    spec = importlib.util.spec_from_file_location("regen", ROOT / "scripts" / "regen.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "relative",
    [
        "akslbctl/cli/_spec.py",
        "docs/reference.md",
        "completions/akslbctl.bash",
        "completions/akslbctl.zsh",
        "completions/akslbctl.fish",
        "completions/akslbctl.ps1",
        "completions/kubectl_complete-aks_lb",
    ],
)
def test_generated_file_is_current(relative):
    generated = {str(p.relative_to(ROOT)): text for p, text in _regen().generated().items()}
    assert (ROOT / relative).read_text(encoding="utf-8") == generated[relative], (
        f"{relative} is stale: run 'python scripts/regen.py' after changing the command line"
    )


def test_spec_module_matches_the_typer_app():
    assert build_spec_paths() == set(COMMANDS)
    assert specgen.build_spec() == COMMANDS


def build_spec_paths() -> set[str]:
    return {path for path, _, _ in specgen._walk(specgen.root_command())}


def test_every_option_of_the_app_is_in_the_spec():
    """Derived, not hand-written: each visible option of each command completes."""
    for path, command, _ctx in specgen._walk(specgen.root_command()):
        names = {n for option in COMMANDS[path]["options"] for n in option[0]}
        for param in command.params:
            if getattr(param, "param_type_name", "") == "option" and not param.hidden:
                assert set(param.opts) <= names, (path, param.opts)


def test_connection_options_complete_the_same_everywhere():
    for path, entry_ in COMMANDS.items():
        for names, value, _repeat, _help in entry_["options"]:
            if "--namespace" in names:
                assert value == "namespace", path
            if "--context" in names:
                assert value == "context", path
            if "--output" in names:
                assert isinstance(value, tuple) and value, path


def test_kubectl_helper_is_executable_and_forwards_to_the_plugin():
    helper = ROOT / "completions" / "kubectl_complete-aks_lb"
    assert os.access(helper, os.X_OK)
    assert 'exec kubectl-aks_lb __complete "$@"' in helper.read_text()


# -- akslbctl completion SHELL ----------------------------------------------------------------------------


@pytest.mark.parametrize("shell", shells.SHELLS)
def test_completion_command_prints_the_script(shell):
    result = cli("completion", shell)
    assert result.exit_code == 0
    assert result.stdout == shells.script(shell)
    assert "__complete" in result.stdout and "2>" in result.stdout


def test_completion_command_refuses_other_shells():
    result = cli("completion", "tcsh")
    assert result.exit_code == 2
    assert "bash, zsh, fish, powershell" in result.stderr


def test_scripts_never_let_errors_reach_the_command_line():
    assert "2>/dev/null </dev/null" in shells.script("bash")
    assert "2>/dev/null </dev/null" in shells.script("zsh")
    assert "2>/dev/null </dev/null" in shells.script("fish")
    assert "2>$null" in shells.script("powershell")


# -- each shell's script, driven by the real shell -----------------------------------------------------------


@pytest.fixture
def shim(tmp_path):
    """A bin directory whose ``akslbctl`` runs this checkout with this interpreter."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "akslbctl"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m akslbctl "$@"\n')
    exe.chmod(0o755)
    for shell in shells.SHELLS:
        (tmp_path / f"script.{shell}").write_text(shells.script(shell))
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path)}
    return tmp_path, env


def _bash(shim, line: str, *, bash_completion: bool) -> list[str]:
    folder, env = shim
    lib = "/usr/share/bash-completion/bash_completion"
    words = line.split(" ")
    setup = f"source {lib}\n" if bash_completion else ""
    program = (
        f"{setup}source {folder / 'script.bash'}\n"
        f"COMP_LINE={_sh(line)}; COMP_POINT=${{#COMP_LINE}}\n"
        f"COMP_WORDS=({' '.join(_sh(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        "_akslbctl akslbctl\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    return [w for w in proc.stdout.splitlines() if w]


def _sh(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
@pytest.mark.parametrize("bash_completion", [False, True])
def test_bash_script(shim, bash_completion):
    if bash_completion and not os.path.exists("/usr/share/bash-completion/bash_completion"):
        pytest.skip("bash-completion is not installed")
    assert _bash(shim, "akslbctl ex", bash_completion=bash_completion) == ["explain"]
    assert _bash(shim, "akslbctl explain -o ", bash_completion=bash_completion) == ["table", "wide", "json", "yaml"]
    assert _bash(shim, "akslbctl explain --out", bash_completion=bash_completion) == ["--output"]
    assert _bash(shim, "akslbctl completion z", bash_completion=bash_completion) == ["zsh"]
    assert _bash(shim, "akslbctl explain --timeout ", bash_completion=bash_completion) == []


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_script_completes_the_value_after_equals(shim):
    # bash splits '--output=js' at '='; the candidates replace only the part after it.
    folder, env = shim
    program = (
        f"source {folder / 'script.bash'}\n"
        "COMP_LINE='akslbctl explain --output=js'; COMP_POINT=${#COMP_LINE}\n"
        "COMP_WORDS=(akslbctl explain --output = js); COMP_CWORD=4\n"
        '_akslbctl akslbctl; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], capture_output=True, text=True, env=env)
    assert proc.stdout.split() == ["json"]


_ZSH_STUBS = r"""
compdef() { :; }
compset() { [[ $1 == -P ]] && PREFIX_TAKEN=1; return 0; }
_files() { print -r -- "FILES $*"; }
_describe() {
    local tag descr
    while [[ $1 == -* ]]; do [[ $1 == -t ]] && shift; shift; done
    descr=$1; local arr=$2; shift 2
    print -r -- "DESCRIBE ${(j:|:)${(P)arr}} OPTS $*"
}
"""


def _zsh(shim, *words: str) -> str:
    folder, env = shim
    program = (
        f"{_ZSH_STUBS}\nsource {folder / 'script.zsh'}\n"
        f"words=(akslbctl {' '.join(_sh(w) for w in words)}); CURRENT={len(words) + 1}\n"
        "_akslbctl\n"
    )
    proc = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True, env=env)
    return proc.stdout.strip()


@pytest.mark.skipif(shutil.which("zsh") is None, reason="no zsh")
def test_zsh_script(shim):
    assert _zsh(shim, "ex") == "DESCRIBE explain:Which nodes the Azure LB treats as up for a Service, and why OPTS"
    out = _zsh(shim, "explain", "-o", "")
    assert out.startswith("DESCRIBE table:table for people (default)|wide:") and "yaml:versioned YAML document" in out
    assert _zsh(shim, "explain", "-f", "") == "FILES"  # directive 0: the shell's own file completion
    assert _zsh(shim, "explain", "--svg", "") == "FILES -g *.svg"
    assert _zsh(shim, "explain", "--timeout", "") == ""  # directive 4: nothing, not files


@pytest.mark.skipif(shutil.which("fish") is None, reason="no fish")
def test_fish_script(shim):
    folder, env = shim

    def fish(line: str) -> list[str]:
        program = f"source {folder / 'script.fish'}; complete -C {_sh(line)}"
        proc = subprocess.run(
            ["fish", "--no-config", "-c", program], capture_output=True, text=True, env=env, cwd=folder
        )
        return proc.stdout.splitlines()

    assert fish("akslbctl ex") == ["explain\tWhich nodes the Azure LB treats as up for a Service, and why"]
    assert [c.split("\t")[0] for c in fish("akslbctl explain -o ")] == ["json", "table", "wide", "yaml"]
    assert [c.split("\t")[0] for c in fish("akslbctl explain --output=y")] == ["--output=yaml"]
    assert fish("akslbctl explain --timeout ") == []
    (folder / "report.svg").write_text("<svg/>")
    (folder / "notes.txt").write_text("")
    (folder / "pictures").mkdir()
    svg = [c.split("\t")[0] for c in fish("akslbctl explain --svg ")]
    assert "report.svg" in svg and "notes.txt" not in svg
    # Nothing but files of the extension and folders: no bare 'svg' or '/' (pieces of a pattern match).
    assert svg and all(c.endswith((".svg", "/")) and c not in ("svg", "/") for c in svg), svg
    assert "pictures/" in svg
    after_equals = [c.split("\t")[0] for c in fish("akslbctl explain --svg=")]
    assert "--svg=report.svg" in after_equals and all(c.startswith("--svg=") for c in after_equals)
    assert "-f=notes.txt" in [c.split("\t")[0] for c in fish("akslbctl explain -f=")]


def test_powershell_script_speaks_the_protocol():
    text = shells.script("powershell")
    assert "Register-ArgumentCompleter -Native -CommandName 'akslbctl'" in text
    assert "& 'akslbctl' __complete @words 2>$null" in text
    assert "'^:(\\d+)$'" in text  # the directive line
    if shutil.which("pwsh") is None:
        pytest.skip("pwsh is not installed: the script's text is checked, not run")
    proc = subprocess.run(["pwsh", "-NoProfile", "-Command", text], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# -- kubectl plugin entry points ---------------------------------------------------------------------------------


def test_plugin_usage_says_kubectl_aks_lb(capsys):
    assert entry.run(["--help"], entry.PLUGIN_PROG) == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: kubectl aks-lb [OPTIONS] COMMAND [ARGS]...")


def test_plugin_errors_point_to_the_plugin_help():
    result = cli("explain", "--bogus", prog=entry.PLUGIN_PROG)
    assert result.exit_code == 2
    assert "see 'kubectl aks-lb explain --help'" in result.stderr


def test_program_name_follows_the_executable(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/kubectl-aks_lb", "explain"])
    assert entry._prog_name() == "kubectl aks-lb"
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/akslbctl"])
    assert entry._prog_name() == "akslbctl"


def test_plugin_complete_entry_answers_the_protocol(monkeypatch, capsys, no_api):
    monkeypatch.setattr(sys, "argv", ["kubectl_complete-aks_lb", "ex"])
    with pytest.raises(SystemExit) as exit_:
        entry.plugin_complete_main()
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("explain\t")


def test_installed_plugin_console_script():
    exe = Path(sys.executable).parent / "kubectl-aks_lb"
    if not exe.exists():
        pytest.skip("kubectl-aks_lb is not installed next to this interpreter")
    proc = subprocess.run([str(exe), "explain", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.startswith("Usage: kubectl aks-lb explain [OPTIONS]")


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[>=]|\r")


def _zsh_tab(shim, line: str, cwd, until: str) -> str:
    """What the real zsh (compinit, the real ``_files``) shows after ``line`` + TAB, on a terminal,
    read until ``until`` appears in it.

    zsh shows no completion list while keys are waiting, so nothing is typed ahead: each step waits
    for what the shell prints (its prompt, then the candidates) before the next keys go in.
    """
    import pty
    import select

    folder, env = shim
    env = {**env, "TERM": "xterm", "PS1": "%% ", "ZDOTDIR": str(folder)}
    pid, fd = pty.fork()
    if pid == 0:  # the child: an interactive zsh without any user configuration
        os.chdir(cwd)
        os.execvpe("zsh", ["zsh", "-f", "-i"], env)
    out = b""

    def wait_for(marker: str, then: str = "") -> None:
        """Until ``marker`` is printed, and ``then`` after it."""
        nonlocal out
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = _ANSI.sub("", out.decode(errors="replace"))
            if marker in text and then in text.split(marker, 1)[1]:
                return
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    break
        raise AssertionError(f"zsh never printed {marker!r}: {out.decode(errors='replace')}")

    try:
        setup = "unsetopt beep; autoload -U compinit && compinit -u -D; "
        os.write(fd, f"{setup}source {folder / 'script.zsh'}; echo READY$((40+2))\n".encode())
        wait_for("READY42", then="% ")  # the echo ran, and the prompt is up: the line editor reads keys
        out = b""
        os.write(fd, f"{line}\t".encode())
        wait_for(until)
        shown = _ANSI.sub("", out.decode(errors="replace"))
        os.write(fd, b"\x15exit\n")
    finally:
        os.close(fd)
        os.waitpid(pid, 0)
    return shown


@pytest.mark.skipif(shutil.which("zsh") is None, reason="no zsh")
def test_zsh_real_file_completion_filters_by_extension(shim, tmp_path):
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    for name in ("report.svg", "other.svg", "notes.txt", "case.json"):
        (work / name).write_text("x")
    svg = _zsh_tab(shim, "akslbctl explain --svg ", work, until="report.svg")
    assert "other.svg" in svg and "sub/" in svg  # the list is printed whole
    assert "notes.txt" not in svg and "case.json" not in svg
    after_equals = _zsh_tab(shim, "akslbctl explain --svg=", work, until="report.svg")
    assert "notes.txt" not in after_equals
    any_file = _zsh_tab(shim, "akslbctl explain -f ", work, until="notes.txt")
    assert "case.json" in any_file and "report.svg" in any_file
    _zsh_tab(shim, "akslbctl explain -f cas", work, until="case.json")  # the only match: completed on the line
