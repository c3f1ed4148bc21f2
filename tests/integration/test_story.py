"""One story per screen: explain's footer, the -A row and footer, the exit code and the findings agree;
findings in reading order and grouped; big tables at a glance; colours that mean something.

All through the real CLI against the lab (real clients, real probes on 127.x listeners)."""

from __future__ import annotations

from support import cli, codes

from akslbctl.errors import ExitCode


def footer(stdout: str) -> list[str]:
    """The footer: the lines after the last blank line."""
    return stdout.rstrip().split("\n\n")[-1].splitlines()


# -- item 1: a leftover rule is drift, not a dark Service -------------------------------------------


def test_leftover_rule_is_a_warning_not_a_dark_service(lab):
    lab("stale-rule")
    result = cli("explain", "svc/web")
    assert result.exit_code == ExitCode.OK, result.output
    assert "DARK" not in result.stdout
    assert "no-healthy-backend" not in result.stdout and "nsg-blocks-clients" not in result.stdout
    assert footer(result.stdout) == [
        "3 of 3 pool members up for the LB on every rule of the Service. 1 warning (stale-rule).",
        "Next: akslbctl diff svc/web -n default",
    ]
    assert "Tcp 8080 · probe Tcp :30808 · 0/3 pool members up · leftover: no port of the Service" in result.stdout

    doc = cli("explain", "svc/web", "-o", "json").json
    assert codes(doc) == ["stale-rule"]
    (stale,) = doc["findings"]
    assert stale["severity"] == "warning" and stale["rule"].endswith("-TCP-8080")
    # The leftover keeps the LB's verdicts in the document: JSON tells what Azure does, unchanged.
    leftover = next(r for r in doc["rules"] if r["frontendPort"] == 8080)
    assert leftover["up"] == 0 and leftover["down"] == 3


def test_explain_and_diff_tell_the_same_story_about_a_leftover(lab):
    lab("stale-rule")
    explained = cli("explain", "svc/web", "-o", "json").json["findings"][0]["message"]
    diffed = cli("diff", "svc/web", "-o", "json")
    assert diffed.exit_code == ExitCode.PROBLEM  # diff: drift found (contract §4)
    rule = next(d for d in diffed.json["differences"] if d["kind"] == "rule")
    said = "a rule for port 8080/Tcp that the Service no longer declares: a leftover the provider removes"
    assert said in explained and said in rule["message"]
    assert "its probe fails on every pool member, so the LB forwards nothing on it" in explained


def test_all_namespaces_counts_a_leftover_as_warning_and_not_in_up_down(lab):
    lab("stale-rule")
    result = cli("explain", "-A")
    assert result.exit_code == ExitCode.OK, result.output
    header, row = result.stdout.splitlines()[:2]
    assert header.split()[:7] == ["NAMESPACE", "NAME", "POLICY", "RULES", "POOL", "UP", "DOWN"]
    # RULES counts the rules that serve the Service; UP/DOWN leave the leftover's members out.
    assert row.split() == ["default", "web", "Cluster", "1", "3", "3", "0", "stale-rule"]
    assert "nothing wrong" not in result.stdout
    assert footer(result.stdout) == [
        "1 LoadBalancer Service: 1 with warnings.",
        "Next: akslbctl explain svc/web -n default",
    ]


def test_all_namespaces_footer_counts_by_worst_finding_and_agrees_with_exit(lab):
    from akslbctl.lab.cluster import AksBuilder
    from akslbctl.lab.scenarios import INGRESS_DEFAULT_BACKEND

    b = AksBuilder(name="story-many")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    b.add_service(
        "ingress",
        ports=[{"port": 80, "nodePort": 31380, "appProtocol": "http"}],
        endpoints_on=[0, 1],
        app=INGRESS_DEFAULT_BACKEND,
    )
    b.add_service("api", ports=[{"port": 8080, "nodePort": 30808}], endpoints_on=[0])
    b.add_stale_rule("default/api", 9090, probe_port=30909)
    lab(b.build())
    result = cli("explain", "-A")
    assert result.exit_code == ExitCode.PROBLEM  # the worst Service's: ingress is dark
    table = {line.split()[1]: line.split() for line in result.stdout.splitlines()[1:4]}
    assert table["ingress"][-1] == "no-healthy-backend"
    assert table["api"][-1] == "stale-rule" and table["web"][-1] == "-"
    assert footer(result.stdout) == [
        "3 LoadBalancer Services: 1 dark, 1 with warnings, 1 healthy.",
        "Next: akslbctl explain svc/ingress -n default",
    ]
    one = cli("explain", "svc/api")
    assert one.exit_code == ExitCode.OK and "1 warning (stale-rule)" in one.stdout
