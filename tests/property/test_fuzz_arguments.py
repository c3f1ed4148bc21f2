"""Resource arguments and whole command lines, however odd: a result, or a usage error (exit 2) in one
line — never a traceback."""

from __future__ import annotations

from fuzzing import FUZZ
from hypothesis import given
from hypothesis import strategies as st
from support import cli

from akslbctl.cli.resource import check_namespace, parse_resources
from akslbctl.errors import UsageError

words = st.one_of(
    st.sampled_from(["svc", "SVC", "service", "services", "pod", "deploy", "svc/", "/", "//", "svc/web", "web", ""]),
    st.text(alphabet=st.sampled_from("svcSVC/-_.a0 \udcff\u00e9"), max_size=12),
    st.text(max_size=20),
)


@FUZZ
@given(args=st.lists(words, max_size=5))
def test_resource_arguments(args):
    try:
        names = parse_resources(args)
    except UsageError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert names and all(isinstance(n, str) and n == n.lower() and "/" not in n for n in names)


@FUZZ
@given(namespace=st.none() | st.text(max_size=70))
def test_namespaces(namespace):
    try:
        assert check_namespace(namespace) == namespace
    except UsageError:
        assert namespace is not None


OPTIONS = [
    "-n",
    "--namespace",
    "--context",
    "--kubeconfig",
    "-o",
    "--output",
    "--timeout",
    "--deadline",
    "--request-timeout",
    "--count",
    "--interval",
    "-f",
    "--filename",
    "--provider-version",
    "--subscription",
    "-g",
    "--arm-endpoint",
    "--no-probe",
    "--no-azure-health",
    "--debug",
    "--redact",
    "-A",
    "-l",
    "--tree",
    "--",
    "--help",
]
VALUES = [
    "svc/web",
    "web",
    "pod/web",
    "-",
    "",
    "x" * 300,
    "/dev/null",
    "/nonexistent/case.json",
    "nan",
    "inf",
    "1e300",
    "-1",
    "0",
    "1e9",
    "0.01",
    "json",
    "yaml",
    "wide",
    "xml",
    "v1.24.10",
    "banana",
    "http://127.0.0.1:9",
    "app=web",
    "\udcff",
    "é",
]


@FUZZ
@given(
    command=st.sampled_from(["explain", "diff", "probe", "capture"]),
    tokens=st.lists(st.sampled_from(OPTIONS + VALUES) | st.text(max_size=8), max_size=8),
)
def test_command_lines(command, tokens):
    """No cluster is configured (the tests' HOME is empty): every line ends in a documented exit code."""
    result = cli(command, *tokens)
    assert result.exit_code in (0, 1, 2, 3), result.output
    assert "Traceback" not in result.output and "internal error" not in result.stderr, result.stderr
    if result.exit_code in (2, 3):
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
