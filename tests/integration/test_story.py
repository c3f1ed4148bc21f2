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
    assert "Tcp 8080 · probe Tcp :30808 · 0/3 pool members up · leftover (stale-rule)" in result.stdout

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


# -- item 2: findings by severity, then rule; identical findings told once --------------------------


def _dark_on_three_nodes():
    from akslbctl.lab.behaviours import Closed
    from akslbctl.lab.cluster import AksBuilder

    b = AksBuilder(name="story-refused")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    for i in range(3):
        b.node_behaviour(i, 30396, Closed())  # kube-proxy should forward: predicted up, refused
    return b.build()


def findings_section(stdout: str) -> list[str]:
    """The paragraphs of the Findings section, one string per finding (continuation lines joined)."""
    lines = stdout.split("Findings\n", 1)[1].split("\n\n", 1)[0].splitlines()
    out: list[str] = []
    for line in lines:
        if line.startswith("  ") and not line.startswith("   "):
            out.append(line.strip())
        else:
            out[-1] += " " + line.strip()
    return out


def test_findings_are_sorted_by_severity_and_identical_ones_grouped(lab):
    lab(_dark_on_three_nodes())
    doc = cli("explain", "svc/web", "-o", "json", "--timeout", "1").json
    # The document keeps one finding per node, in the analysis' order (JSON is unchanged).
    disagreements = [f for f in doc["findings"] if f["code"] == "endpoint-probe-disagreement"]
    assert [f["node"] for f in disagreements] == [f"aks-nodepool1-12345678-vmss00000{i}" for i in range(3)]
    assert codes(doc).index("endpoint-probe-disagreement") < codes(doc).index("no-healthy-backend")

    result = cli("explain", "svc/web", "--timeout", "1")
    assert result.exit_code == ExitCode.PROBLEM
    told = findings_section(result.stdout)
    marks = [t.split()[0] for t in told]
    assert marks == sorted(marks, key=lambda m: {"✖": 0, "⚠": 1, "ℹ": 2}[m])  # errors first
    assert told[0].startswith("✖ no-healthy-backend")
    grouped = [t for t in told if "endpoint-probe-disagreement" in t]
    assert len(grouped) == 1, told  # one paragraph for the three nodes, not one each
    assert "cluster state predicts UP for 3 nodes (aks-nodepool1-12345678-vmss000000–000002)" in grouped[0]
    assert "the probe shows DOWN: :30396: connection refused" in grouped[0]
    # The tree tells the findings in the same order and grouping.
    tree = cli("explain", "svc/web", "--timeout", "1", "--tree").stdout.split("Findings\n", 1)[1].split("\n\n")[0]
    assert tree.index("no-healthy-backend") < tree.index("endpoint-probe-disagreement")
    assert tree.count("endpoint-probe-disagreement") == 1 and "for 3 nodes (" in tree
    # The footer counts what the section shows, in the worst finding's words.
    assert footer(result.stdout)[0].startswith("DARK: no node is up for the LB on Tcp 80. 1 error (no-healthy-backend)")
    assert "1 warning (endpoint-probe-disagreement)" in footer(result.stdout)[0]


def test_node_ranges_fold_counters_decimal_and_vmss_base36():
    from akslbctl.render.story import node_ranges

    vmss = [f"aks-np-12345678-vmss{n:06d}" for n in (0, 1, 2, 5)]
    assert node_ranges(vmss) == "aks-np-12345678-vmss000000–000002, 000005"
    base36 = ["aks-np-vmss000009", "aks-np-vmss00000a", "aks-np-vmss00000b", "aks-np-vmss000010"]
    assert node_ranges(base36) == "aks-np-vmss000009–00000b, 000010"
    assert node_ranges([f"n{i}" for i in range(20) if i % 2]) == "n1, 3, 5, 7, 9, 11 … and 4 more"


# -- item 3: big tables at a glance -------------------------------------------------------------------


def node_lines(stdout: str) -> list[list[str]]:
    """The node table's rows (first cells), up to the blank line after it."""
    lines = stdout.split("\nNODE", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    return [line.split() for line in lines if line.startswith(("aks-", "2"))]


def test_past_twenty_rows_the_nodes_worth_reading_come_first_and_the_rest_fold(lab):
    lab("mixed-30")
    result = cli("explain", "svc/web", "--timeout", "1")
    rows = node_lines(result.stdout)
    names = [r[0] for r in rows]
    # Contradictions first (node 5 hangs, node 12 refuses: predicted up), then down by design (no pod).
    assert names[:2] == ["aks-nodepool1-12345678-vmss000005", "aks-nodepool1-12345678-vmss00000c"]
    by_design = [f"aks-nodepool1-12345678-vmss00000{c}" for c in "opqrst"]
    assert names[2:8] == by_design
    assert all(r[2] == "down" for r in rows[:8])
    # The 22 up nodes: one row, their shared reason.
    assert rows[8][:4] == ["22", "nodes", "yes", "up"] and rows[9][:3] == ["22", "of", "30"]  # + the fold note
    assert "GET :32649/healthz → 200" in result.stdout
    assert "22 of 30 nodes folded into rows by identical reason; --all-nodes or -o wide lists every node." in (
        result.stdout
    )
    assert "22 of 30 pool members up for the LB on every rule." in result.stdout

    every = cli("explain", "svc/web", "--timeout", "1", "--all-nodes")
    assert [r[0] for r in node_lines(every.stdout)] == [
        f"aks-nodepool1-12345678-vmss{n:06d}"[:-6] + _b36(n) for n in range(30)
    ]
    assert "folded" not in every.stdout
    wide = cli("explain", "svc/web", "--timeout", "1", "-o", "wide")
    assert len(node_lines(wide.stdout)) == 30 and "folded" not in wide.stdout
    # JSON is unchanged: every node, in name order.
    doc = cli("explain", "svc/web", "--timeout", "1", "-o", "json").json
    assert len(doc["rules"][0]["nodes"]) == 30 and doc["rules"][0]["up"] == 22


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, d = divmod(n, 36)
        out = digits[d] + out
    return out.rjust(6, "0")


def test_twenty_rows_or_fewer_print_every_node_in_name_order(lab):
    lab("local-http")
    result = cli("explain", "svc/web")
    names = [r[0] for r in node_lines(result.stdout)]
    assert names == [f"aks-nodepool1-12345678-vmss00000{i}" for i in range(3)]
    assert "folded" not in result.stdout


# -- item 4: colour means something ---------------------------------------------------------------

RED, BOLD_RED, YELLOW, GREEN, BOLD_GREEN = "31", "1;31", "33", "32", "1;32"


def sgr(line: str, text: str) -> str | None:
    """The SGR parameters in force where ``text`` starts on ``line`` (None: unstyled)."""
    import re

    at = line.find(text)
    if at < 0:
        return None
    codes = re.findall(r"\x1b\[([\d;]*)m", line[:at])  # the last one before the text is in force
    return codes[-1] if codes and codes[-1] not in ("", "0") else None


def coloured(monkeypatch, *argv: str):
    monkeypatch.setenv("FORCE_COLOR", "1")
    return cli(*argv)


def line_of(stdout: str, needle: str) -> str:
    return next(line for line in stdout.splitlines() if needle in line)


def test_down_by_design_is_yellow_and_contradictions_red(lab, monkeypatch):
    lab("mixed-30")
    out = coloured(monkeypatch, "explain", "svc/web", "--timeout", "1", "--all-nodes").stdout
    hangs = line_of(out, "vmss000005")
    assert sgr(hangs, "down ") == BOLD_RED and sgr(hangs, "down: no HTTP response") == RED
    no_pod = line_of(out, "vmss00000o")
    assert sgr(no_pod, "down ") == YELLOW
    assert sgr(no_pod, "down: HTTP status not 200") == YELLOW  # AZURE SAYS too
    up = line_of(out, "vmss000000")
    assert sgr(up, "up ") == BOLD_GREEN and sgr(up, "up: probe succeeds") == GREEN
    # The footer takes the worst finding's colour: warnings (disagreements), so yellow, not green or red.
    assert sgr(line_of(out, "pool members up for the LB"), "22 of 30") == YELLOW

    tree = coloured(monkeypatch, "explain", "svc/web", "--timeout", "1", "--tree").stdout
    assert sgr(line_of(tree, "vmss00000o"), "down") == YELLOW
    assert sgr(line_of(tree, "vmss000005"), "down") == BOLD_RED


def test_a_dark_port_is_red_and_a_leftover_yellow(lab, monkeypatch):
    lab(_dark_on_three_nodes())
    out = coloured(monkeypatch, "explain", "svc/web", "--timeout", "1").stdout
    assert sgr(line_of(out, "vmss000002"), "down ") == BOLD_RED
    assert sgr(line_of(out, "DARK:"), "DARK:") == BOLD_RED


def test_a_leftover_rule_is_yellow_everywhere(lab, monkeypatch):
    lab("stale-rule")
    out = coloured(monkeypatch, "explain", "svc/web").stdout
    table = out.split("leftover (stale-rule)", 1)[1]
    row = line_of(table, "vmss000001")
    assert sgr(row, "down ") == YELLOW and sgr(row, "down: TCP probe timed out") == YELLOW
    assert sgr(line_of(out, "pool members up for the LB"), "3 of 3") == YELLOW
    tree = coloured(monkeypatch, "explain", "svc/web", "--tree").stdout
    leftover = tree.split("leftover (stale-rule)", 1)[1]
    assert sgr(line_of(leftover, "vmss000001"), "down") == YELLOW
    assert sgr(line_of(tree, "0/3 up"), " · 0/3 up") == YELLOW
    many = coloured(monkeypatch, "explain", "-A").stdout
    assert sgr(line_of(many, "1 LoadBalancer Service"), "1 LoadBalancer") == YELLOW
    assert sgr(line_of(many, "default"), "stale-rule") == YELLOW


def test_probe_live_table_shows_down_by_design_in_yellow(lab, monkeypatch):
    import io

    from support import Result

    from akslbctl.cli.app import Terminal, run_cli

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("TERM", "xterm-256color")
    lab("local-http")  # node 2 has no pod: 503, localEndpoints 0 — out of rotation by design
    out = Tty()
    code = run_cli(["probe", "svc/web", "--count", "1", "--timeout", "1"], "akslbctl", Terminal(out, io.StringIO()))
    result = Result(int(code), out.getvalue(), "")
    assert result.exit_code == ExitCode.OK
    no_pod = line_of(result.stdout, "vmss000002")
    assert sgr(no_pod, "http 503") == YELLOW and sgr(no_pod, "down ") == YELLOW
    assert sgr(no_pod, "  down: HTTP status") == YELLOW  # AZURE SAYS
    assert sgr(line_of(result.stdout, "vmss000000"), "ok 200") == GREEN


def test_probe_tells_a_leftover_as_explain_does(lab):
    lab("stale-rule")
    result = cli("probe", "svc/web", "--count", "1", "--timeout", "1")
    assert result.exit_code == ExitCode.OK, result.output  # as explain: the leftover is drift, not dark
    last = result.stdout.rstrip().splitlines()[-1]
    assert "DARK" not in last
    assert last.startswith("After round 1: every rule of the Service has a member up for the LB (")
    assert "-TCP-80 3/3); leftover " in last and "-TCP-8080 0/3 (stale-rule: see diff)." in last
    rounds = cli("probe", "svc/web", "--count", "1", "--timeout", "1", "-o", "json")
    assert rounds.exit_code == ExitCode.OK
    assert {p["port"] for p in rounds.json["probes"]} == {30396, 30808}  # the document still has both


def test_total_line_counts_every_standing_worst_first():
    from akslbctl.render.summary import STANDINGS, ServiceRow, total_line

    def row(name: str, standing: str, worst: str | None = None, severity: str | None = None) -> ServiceRow:
        return ServiceRow(
            "ns", name, "Cluster", 1, 3, 3, 0, worst, severity, "-", "lb", 0, standing, f"svc/{name} -n ns"
        )

    everything = [row(s.replace(" ", "-"), s) for s in reversed(STANDINGS)]
    text = total_line(everything, "kubectl aks-lb")
    assert text.plain == (
        "7 LoadBalancer Services: 1 dark, 1 not built, 1 without a load balancer, 1 with errors, "
        "1 without a verdict, 1 with warnings, 1 healthy.\nNext: kubectl aks-lb explain svc/dark -n ns"
    )
    noted = total_line([row("a", "healthy", "stale-probe", "info"), row("b", "healthy")])
    assert noted.plain == "2 LoadBalancer Services, nothing wrong (1 with notes)."


def test_no_table_line_passes_the_width_azure_says_moves_below_last(lab, monkeypatch):
    lab("local-http")
    at80 = cli("explain", "svc/web", "--timeout", "1").stdout  # COLUMNS=120 in tests: set 80 below
    assert "AZURE SAYS" in at80
    for cols in ("80", "70"):
        monkeypatch.setenv("COLUMNS", cols)
        out = cli("explain", "svc/web", "--timeout", "1").stdout
        table = out.split("\nNODE", 1)[1].split("\n\n", 1)[0]
        assert max(len(line) for line in table.splitlines()) <= int(cols), table
    # 70 columns: no room for Azure's words beside a full node name — they move under it, never cut.
    assert "AZURE SAYS" not in table
    assert "    azure says down: HTTP status not 200 · GET :32649/healthz → 503" in table
    assert "aks-nodepool1-12345678-vmss000002  yes   down" in table


def test_every_line_of_a_leftover_screen_fits_80_columns(lab, monkeypatch):
    lab("stale-rule")
    monkeypatch.setenv("COLUMNS", "80")
    for argv in (("explain", "svc/web"), ("explain", "-A"), ("explain", "svc/web", "-o", "wide")):
        out = cli(*argv).stdout
        assert max(len(line) for line in out.splitlines()) <= 80, (argv, out)


def test_offline_the_next_step_reads_the_same_case_file(lab, tmp_path):
    lab("stale-rule")
    path = tmp_path / "case with space.json"
    assert cli("capture", "svc/web", "-f", str(path), "--timeout", "1").exit_code == ExitCode.OK
    result = cli("explain", "-f", str(path))
    assert result.exit_code == ExitCode.OK, result.output
    assert footer(result.stdout)[-1] == f"Next: akslbctl diff -f '{path}'"
    assert cli("diff", "-f", str(path)).exit_code == ExitCode.PROBLEM  # the step it names works, offline


def test_header_keys_are_bold_and_their_values_are_not(lab, monkeypatch):
    lab("cluster-tcp")
    result = coloured(monkeypatch, "explain", "svc/web", "--timeout", "1")
    service = line_of(result.stdout, "default/web")
    assert sgr(service, "Service") == "1"  # the key
    assert sgr(service, "default/web") is None  # its value: plain text
