from __future__ import annotations

import pytest

from akslbctl.cli.resource import check_namespace, parse_resources
from akslbctl.errors import ExitCode, UsageError


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["svc/web"], ["web"]),
        (["service/web"], ["web"]),
        (["services/web"], ["web"]),
        (["SVC/web"], ["web"]),
        (["Service/web"], ["web"]),
        (["web"], ["web"]),
        (["svc", "web", "api"], ["web", "api"]),
        (["svc/web", "svc/api"], ["web", "api"]),
    ],
)
def test_kubectl_forms(args, names):
    assert parse_resources(args) == names


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "no Service given"),
        (["svc/"], "has no name"),
        (["pod/x"], "is a pod, not a Service"),
        (["deploy/web"], "is a deploy, not a Service"),
        (["deploy", "web"], "not a resource type"),
        (["svc"], "needs a name"),
        (["svc/web", "api"], "do not mix"),
        (["svc", "svc/web"], "do not mix"),
        (["svc/Web"], "not a valid Service name"),
        (["svc/a/b"], "is not TYPE/NAME"),
        (["svc/" + "a" * 64], "not a valid Service name"),
    ],
)
def test_bad_resource_arguments_are_usage_errors(args, says):
    with pytest.raises(UsageError) as err:
        parse_resources(args)
    assert says in str(err.value)
    assert err.value.exit_code == ExitCode.BAD_INPUT
    assert "\n" not in str(err.value)


def test_namespace_validation():
    assert check_namespace("kube-system") == "kube-system"
    assert check_namespace(None) is None
    with pytest.raises(UsageError):
        check_namespace("Bad_NS")
