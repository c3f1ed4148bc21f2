"""probe end to end, and Azure's own view (rule health) in explain and probe: the real CLI entry, the
real kubernetes and azure-mgmt-network clients against the lab's APIs, real probes against per-node
listeners on 127.x addresses."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests
from support import cli, codes, node_rows

from akslbctl.lab.behaviours import Http, Reply, Sequence
from akslbctl.lab.cluster import AksBuilder

NODES = [f"aks-nodepool1-12345678-vmss00000{i}" for i in range(3)]
HEALTHY = Reply(200, b'{"localEndpoints": 1}')
UNHEALTHY = Reply(503, b'{"localEndpoints": 0}')
FAST = ("--interval", "0")


def rounds_of(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def probe_nodes(doc: dict, probe: int = 0) -> dict[str, dict]:
    return {n["name"]: n for n in doc["probes"][probe]["nodes"]}


def lab_rule_health(running, rule: str) -> dict:
    """What the lab's ARM answers for one rule's health (POST, then the Location)."""
    c = running.cluster
    url = (
        f"{running.arm_url}/subscriptions/{c.subscription}/resourceGroups/{c.node_resource_group}/providers/"
        f"Microsoft.Network/loadBalancers/kubernetes/loadBalancingRules/{rule}/health"
    )
    auth = {"Authorization": f"Bearer {running.arm_token}"}
    first = requests.post(url, params={"api-version": "2025-07-01"}, headers=auth, timeout=10)
    assert first.status_code == 202
    done = requests.get(first.headers["Location"], headers=auth, timeout=10)
    assert done.status_code == 200
    return done.json()


def flapping_cluster(steps: str) -> AksBuilder:
    """Local policy, Http /healthz on 32651; node 0's health port answers the steps in order (+ 200, - 503)."""
    b = AksBuilder(name="flapping")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31082}],
        policy="Local",
        health_check_node_port=32651,
        endpoints_on=[0, 1, 2],
    )
    replies = tuple(Http(default=HEALTHY if c == "+" else UNHEALTHY) for c in steps)
    b.node_behaviour(0, 32651, Sequence(replies))
    return b


# -- the LB's state machine over rounds ---------------------------------------------------------------


def test_flapping_node_state_lags_results_exactly_as_the_lbs_threshold_2(lab):
    steps = "+--+-++-"
    lab(flapping_cluster(steps).build())
    result = cli("probe", "svc/web", "--count", str(len(steps)), *FAST, "-o", "json", "--no-azure-health")
    assert result.exit_code == 0, result.stderr
    docs = rounds_of(result)
    assert [d["round"] for d in docs] == list(range(1, len(steps) + 1))
    (probe,) = docs[0]["probes"]
    assert (probe["protocol"], probe["port"], probe["path"], probe["threshold"]) == ("Http", 32651, "/healthz", 2)
    node0 = [probe_nodes(d)[NODES[0]] for d in docs]
    assert [n["status"] for n in node0] == [200, 503, 503, 200, 503, 200, 200, 503]
    assert [n["outcome"] == "ok" for n in node0] == [c == "+" for c in steps]
    assert {n["outcome"] for n in node0 if n["status"] == 503} == {"http-status"}
    # threshold 2: one failure keeps it up, two take it out, one success is not enough to come back.
    assert [n["state"] for n in node0] == ["up", "up", "down", "down", "down", "down", "up", "up"]
    assert [n["flipped"] for n in node0] == [False, False, True, False, False, False, True, False]
    assert [n["towardsFlip"] for n in node0] == [0, 1, 0, 1, 0, 1, 0, 1]
    # The steady nodes stay up throughout; every round counts all three.
    assert all(probe_nodes(d)[NODES[1]]["state"] == "up" for d in docs)
    assert [d["probes"][0]["up"] for d in docs] == [3, 3, 2, 2, 2, 2, 3, 3]
    assert [d["rules"][0]["up"] for d in docs] == [3, 3, 2, 2, 2, 2, 3, 3]


def test_flapping_node_in_plain_lines_shows_result_state_and_history(lab):
    lab(flapping_cluster("+--").build())
    result = cli("probe", "svc/web", "--count", "3", *FAST, "--no-azure-health")
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if NODES[0] in line]
    assert len(lines) == 3  # one line per member per round
    assert lines[0].split()[:2] == ["#1", NODES[0]] and lines[1].split()[:2] == ["#2", NODES[0]]
    assert "ok 200" in lines[0] and " up " in lines[0] and "✓" in lines[0]
    assert "http 503" in lines[1] and "up (1/2)" in lines[1] and "✓✗" in lines[1]
    assert "http 503" in lines[2] and "down ↓" in lines[2] and "✓✗✗" in lines[2]
    # The vantage is said once, before the rounds.
    assert result.stdout.count("Probes are sent from 127.") == 1
    assert "168.63.129.16" in result.stdout
    assert "After round 3: every rule has a member up" in result.stdout


def test_a_probe_that_times_out(lab):
    lab("hanging-health")
    started = time.monotonic()
    result = cli("probe", "svc/web", "--count", "1", "--timeout", "0.3", "-o", "json")
    assert time.monotonic() - started < 10
    assert result.exit_code == 0, result.stderr  # two nodes are up
    (doc,) = rounds_of(result)
    rows = probe_nodes(doc)
    hung = rows[NODES[1]]
    assert (hung["outcome"], hung["status"], hung["state"]) == ("timeout", None, "down")
    assert 250 <= hung["latencyMs"] < 2000
    assert hung["azure"] == {"state": "Down", "reason": "Down_Probe_HttpNoResponse"}
    assert {rows[n]["outcome"] for n in (NODES[0], NODES[2])} == {"ok"}
    # Azure and we agree: no disagreement.
    assert doc["findings"] == []


def test_every_member_down_exits_1(lab):
    lab("no-endpoints")
    result = cli("probe", "svc/web", "--count", "2", *FAST, "--no-azure-health")
    assert result.exit_code == 1
    assert "DARK" in result.stdout and "no member is up for the LB" in result.stdout


def test_rule_without_probe_is_up_on_every_member_and_not_asked(lab):
    running = lab("udp-no-probe")
    result = cli("probe", "svc/web", "--count", "2", *FAST, "-o", "json")
    assert result.exit_code == 0, result.stderr
    docs = rounds_of(result)
    assert len(docs) == 2
    for doc in docs:
        assert doc["probes"] == []
        (rule,) = doc["rules"]
        assert rule["name"].endswith("-UDP-53")
        assert (rule["probe"], rule["up"], rule["members"]) == (None, 3, 3)
        assert any("no probe" in n for n in doc["notes"])
    assert not [r for r in running.requests if r.route == "arm.rule-health"]  # rules without a probe: not asked


def test_a_probed_rule_and_a_rule_without_probe_side_by_side(lab):
    b = AksBuilder(name="mixed")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 30394}, {"port": 53, "protocol": "UDP", "nodePort": 30053}],
        endpoints_on=[0, 1],
    )
    b.node_behaviour(2, 30394, Http(default=UNHEALTHY))  # answers, so a Tcp probe is still up
    lab(b.build())
    result = cli("probe", "svc/web", "--count", "1", "-o", "json")
    assert result.exit_code == 0, result.stderr
    (doc,) = rounds_of(result)
    (probe,) = doc["probes"]
    assert (probe["protocol"], probe["port"], probe["up"]) == ("Tcp", 30394, 3)
    rules = {r["name"].rsplit("-", 2)[-2]: r for r in doc["rules"]}
    assert (rules["TCP"]["probe"], rules["TCP"]["up"], rules["TCP"]["members"]) == (probe["name"], 3, 3)
    assert (rules["UDP"]["probe"], rules["UDP"]["up"], rules["UDP"]["members"]) == (None, 3, 3)
    assert len([n for n in doc["notes"] if "Azure reports no health" in n and "-UDP-53" in n]) == 1
    assert {n["azure"]["state"] for n in probe["nodes"]} == {"Up"}


def test_explain_rule_without_probe_has_no_azure_view_and_one_note(lab):
    lab("udp-no-probe")
    result = cli("explain", "svc/web", "-o", "json")
    assert result.exit_code == 0, result.stderr
    doc = result.json
    assert {n["azure"] for n in doc["rules"][0]["nodes"]} == {None}
    notes = [n for n in doc["notes"] if "Azure reports no health" in n]
    assert len(notes) == 1 and "no probe" in notes[0]


# -- Azure's view -------------------------------------------------------------------------------------


def test_explain_azure_view_equals_what_arm_says(lab):
    running = lab("local-http")
    result = cli("explain", "svc/web", "-o", "json")
    assert result.exit_code == 0, result.stderr
    doc = result.json
    (rule,) = doc["rules"]
    said = lab_rule_health(running, rule["name"])
    by_ip = {a["ipAddress"]: {"state": a["state"], "reason": a["reason"]} for a in said["loadBalancerBackendAddresses"]}
    rows = node_rows(doc)
    assert {name: rows[name]["azure"] for name in NODES} == {NODES[i]: by_ip[running.address(i)] for i in range(3)}
    assert rows[NODES[2]]["azure"] == {"state": "Down", "reason": "Down_Probe_HttpStatusCodeError"}
    assert rows[NODES[0]]["azure"] == {"state": "Up", "reason": "Up_Probe_Success"}
    # Azure agrees with the probes: no disagreement, no note about Azure.
    assert "azure-probe-disagreement" not in codes(doc)
    assert not [n for n in doc["notes"] if "Azure" in n]


def test_explain_table_has_an_azure_says_column_in_plain_words(lab):
    lab("local-http")
    result = cli("explain", "svc/web")
    assert result.exit_code == 0, result.stderr
    assert "AZURE SAYS" in result.stdout
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("aks-")}
    assert "up: probe succeeds" in rows[NODES[0]]
    assert "down: HTTP status not 200" in rows[NODES[2]]


def test_explain_azure_view_joins_ip_pool_members_by_address(lab):
    running = lab("node-ip-pool")
    result = cli("explain", "svc/web", "-o", "json")
    assert result.exit_code == 0, result.stderr
    rows = node_rows(result.json)
    assert {rows[n]["azure"]["state"] for n in NODES} == {"Up"}
    assert [r.route for r in running.requests].count("arm.rule-health") == 1


def test_no_azure_health_skips_the_operation(lab):
    running = lab("local-http")
    result = cli("explain", "svc/web", "-o", "json", "--no-azure-health")
    assert result.exit_code == 0, result.stderr
    assert {n["azure"] for n in result.json["rules"][0]["nodes"]} == {None}
    assert not [n for n in result.json["notes"] if "Azure" in n]
    result = cli("probe", "svc/web", "--count", "1", "-o", "json", "--no-azure-health")
    assert {n["azure"] for n in rounds_of(result)[0]["probes"][0]["nodes"]} == {None}
    assert not [r for r in running.requests if r.route.startswith("arm.rule-health")]


def test_azure_view_forbidden_is_null_with_one_note_and_the_same_exit_code(lab):
    lab("rule-health-forbidden")
    result = cli("explain", "svc/web", "-o", "json")
    assert result.exit_code == 0, result.stderr
    doc = result.json
    assert {n["azure"] for n in doc["rules"][0]["nodes"]} == {None}
    assert {n["verdict"] for n in doc["rules"][0]["nodes"]} == {"up"}  # the probes still decide
    notes = [n for n in doc["notes"] if "rule health" in n]
    assert len(notes) == 1 and "missing permission" in notes[0] and "AuthorizationFailed" in notes[0]
    assert doc["findings"] == []
    assert "Traceback" not in result.stderr and result.stderr == ""

    probed = cli("probe", "svc/web", "--count", "1", "-o", "json")
    assert probed.exit_code == 0, probed.stderr
    (rnd,) = rounds_of(probed)
    assert {n["azure"] for n in rnd["probes"][0]["nodes"]} == {None}
    assert len([n for n in rnd["notes"] if "missing permission" in n]) == 1


def test_azure_view_unsupported_api_version_is_null_with_a_note(lab):
    b = AksBuilder(name="old-arm")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30398}], endpoints_on=[0, 1])
    b.rule_health(min_api_version="2099-01-01")  # the operation does not exist at our api-version
    running = lab(b.build())
    result = cli("explain", "svc/web", "-o", "json")
    assert result.exit_code == 0, result.stderr
    doc = result.json
    assert {n["azure"] for n in doc["rules"][0]["nodes"]} == {None}
    notes = [n for n in doc["notes"] if "rule health" in n]
    assert len(notes) == 1 and "does not offer the rule-health operation" in notes[0]
    assert "InvalidResourceType" in notes[0]
    assert [r.status for r in running.requests if r.route == "arm.rule-health"] == [404]


def test_nsg_blocking_the_lbs_probes_is_a_disagreement(lab):
    lab("nsg-blocks-probe")
    result = cli("explain", "svc/web", "-o", "json")
    # The verdict is the LB's (contract §5.1): Azure says Down although every node answers us.
    assert result.exit_code == 1, result.stderr
    doc = result.json
    rows = node_rows(doc)
    assert {(rows[n]["verdict"], rows[n]["reason"]) for n in NODES} == {("down", "blocked-before-node")}
    assert {rows[n]["azure"]["reason"] for n in NODES} == {"Down_Probe_TcpProbeTimeout"}
    assert {rows[n]["observed"]["outcome"] for n in NODES} == {"ok"}
    assert "nsg-blocks-probe" in [f["code"] for f in doc["findings"]]

    # probe has no NSG evaluation: the disagreement explains it, and the LB state follows Azure.
    probed = cli("probe", "svc/web", "--count", "1", "-o", "json")
    assert probed.exit_code == 1, probed.stderr
    (rnd,) = rounds_of(probed)
    (finding,) = [f for f in rnd["findings"] if f["code"] == "azure-probe-disagreement"]
    assert finding["severity"] == "warning" and finding["node"] is None
    assert "3 nodes" in finding["message"] and "Down_Probe_TcpProbeTimeout" in finding["message"]
    assert "168.63.129.16" in finding["message"] and "AllowAzureLoadBalancerInBound" in finding["message"]
    assert {n["azure"]["state"] for n in rnd["probes"][0]["nodes"]} == {"Down"}
    assert {(n["state"], n["stateFrom"]) for n in rnd["probes"][0]["nodes"]} == {("down", "azure")}
    assert {n["outcome"] for n in rnd["probes"][0]["nodes"]} == {"ok"}

    table = cli("probe", "svc/web", "--count", "1")
    assert "≠ ours" in table.stdout and "azure-probe-disagreement" in table.stdout


def test_azure_up_where_our_probe_fails_names_our_vantage(lab):
    b = AksBuilder(name="vantage")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31083}],
        policy="Local",
        health_check_node_port=32652,
        endpoints_on=[0, 1, 2],
    )
    b.node_behaviour(1, 32652, Http(default=UNHEALTHY))
    b.azure_says(1, None, "Up", "Up_Probe_Success")
    lab(b.build())
    result = cli("explain", "svc/web", "-o", "json")
    assert result.exit_code == 0, result.stderr
    (finding,) = [f for f in result.json["findings"] if f["code"] == "azure-probe-disagreement"]
    assert finding["node"] == NODES[1]
    assert "succeed" in finding["message"] and "http-status 503" in finding["message"]
    assert "cannot reach the node" in finding["message"] and "NetworkPolicy" in finding["message"]
    assert "2 consecutive failure" in finding["message"]


def test_threshold_reasons_are_not_disagreements(lab):
    b = AksBuilder(name="approaching")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31084}],
        policy="Local",
        health_check_node_port=32653,
        endpoints_on=[0, 1, 2],
    )
    b.node_behaviour(1, 32653, Http(default=UNHEALTHY))
    # Azure's probes fail too; only its threshold keeps the node up for now.
    b.azure_says(1, None, "Up", "Up_Probe_ApproachingUnhealthyThreshold")
    lab(b.build())
    result = cli("explain", "svc/web", "-o", "json")
    rows = node_rows(result.json)
    assert rows[NODES[1]]["azure"] == {"state": "Up", "reason": "Up_Probe_ApproachingUnhealthyThreshold"}
    assert "azure-probe-disagreement" not in codes(result.json)


# -- output and exit codes ----------------------------------------------------------------------------


def test_json_lines_count_3_gives_exactly_3_probe_rounds(lab):
    lab("cluster-tcp")
    result = cli("probe", "svc/web", "--count", "3", *FAST, "-o", "json")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and result.stdout.endswith("\n")
    for i, line in enumerate(lines, start=1):
        doc = json.loads(line)
        assert (doc["apiVersion"], doc["kind"], doc["round"]) == ("akslbctl/v1alpha1", "ProbeRound", i)
        (probe,) = doc["probes"]
        assert {"name", "protocol", "port", "path", "nodes"} <= set(probe)
        assert (probe["protocol"], probe["port"], probe["path"]) == ("Tcp", 30396, None)
        assert len(probe["nodes"]) == 3
        for node in probe["nodes"]:
            assert {"name", "address", "outcome", "status", "latencyMs", "localEndpoints", "state"} <= set(node)
            assert (node["outcome"], node["state"]) == ("ok", "up")
        assert doc["vantage"]["source"].startswith("127.")
        assert doc["vantage"]["azureSource"] == "168.63.129.16"
        assert doc["service"] == {"namespace": "default", "name": "web"}
    assert result.stderr == ""


def test_default_count_is_threshold_plus_one(lab):
    lab("cluster-tcp")
    result = cli("probe", "svc/web", *FAST, "-o", "json", "--no-azure-health")
    assert len(rounds_of(result)) == 3  # probeThreshold 2 + 1


def test_interval_defaults_to_the_probes_interval(lab):
    b = AksBuilder(name="interval")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30399}], endpoints_on=[0, 1])
    b.set_probe("web", 80, interval=1)
    lab(b.build())
    started = time.monotonic()
    result = cli("probe", "svc/web", "--count", "2", "-o", "json", "--no-azure-health")
    took = time.monotonic() - started
    assert result.exit_code == 0, result.stderr
    first, second = rounds_of(result)
    assert first["probes"][0]["intervalInSeconds"] == 1
    assert took >= 1.0  # the second round waited for the probe's own interval


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("--watch", "--count", "2"), "exclude each other"),
        (("-o", "yaml"), "unknown output format"),
        (("--count", "0"), "--count"),
    ],
)
def test_bad_probe_arguments_exit_2(lab, argv, says):
    lab("cluster-tcp")
    result = cli("probe", "svc/web", *argv)
    assert result.exit_code == 2
    assert says in result.stderr and "Traceback" not in result.stderr


def test_probe_without_a_load_balancer_exits_3(lab):
    cluster = AksBuilder(name="no-lb").add_service("web").build()
    cluster.load_balancers.clear()
    lab(cluster)
    result = cli("probe", "svc/web", "--count", "1")
    assert result.exit_code == 3
    assert "no load balancer" in result.stderr and result.stderr.count("\n") == 1


# -- Ctrl-C -------------------------------------------------------------------------------------------


def _akslbctl(running, *argv: str) -> subprocess.Popen:
    env = {**os.environ, **running.env}
    return subprocess.Popen(
        [sys.executable, "-m", "akslbctl", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )


@pytest.mark.parametrize("output", ["json", "table"])
def test_ctrl_c_during_watch_exits_130_without_a_traceback(lab, output):
    running = lab("cluster-tcp")
    proc = _akslbctl(running, "probe", "svc/web", "--watch", "--interval", "0.2", "-o", output)
    try:
        first = proc.stdout.readline()
        if output == "json":
            assert json.loads(first)["round"] == 1
        else:
            while not first.startswith("round 1"):
                first = proc.stdout.readline()
                assert first, proc.stderr.read()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert "Traceback" not in err and "Exception" not in err
    if output == "json":
        for line in out.splitlines():  # whatever was printed is whole lines of JSON
            assert json.loads(line)["kind"] == "ProbeRound"


def test_ctrl_c_while_waiting_for_azure_exits_130(lab):
    b = AksBuilder(name="slow-arm").add_service("web", ports=[{"port": 80, "nodePort": 30395}])
    b.rule_health(polls=None, retry_after=1)  # the operation never completes
    running = lab(b.build())
    proc = _akslbctl(running, "probe", "svc/web", "--watch", "-o", "json")
    try:
        deadline = time.monotonic() + 30
        while not any(r.route == "arm.rule-health.poll" for r in running.requests):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert out == ""  # interrupted inside the first round, before any output
    assert "Traceback" not in err


def test_probe_from_a_laptop_without_azures_view_closes_with_no_verdict_not_dark(lab):
    lab("laptop-no-azure")
    result = cli("probe", "svc/web", "--count", "1", "--timeout", "1")
    assert result.exit_code == 3, result.stderr
    assert "DARK" not in result.stdout  # nothing reached a node: no state, not "no member is up"
    assert "After round 1: NO VERDICT for " in result.stdout
    assert "A node has a verdict only where akslbctl's probe reached it" in result.stdout


# -- the live table fits the terminal ---------------------------------------------------------------

SGR = re.compile(r"\x1b\[[0-9;]*m")
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def screen_lines(raw: str) -> list[str]:
    """What a terminal shows line by line: styles gone, a redraw (CR, cursor moves) a new line."""
    text = CONTROL.sub("\n", SGR.sub("", raw))
    return [line.rstrip() for line in re.split(r"[\r\n]", text) if line.strip()]


def run_on_pty(running, *argv: str, columns: int, rounds: int) -> str:
    """``akslbctl ARGV`` on a real pseudo-terminal of ``columns`` × 40, interrupted after ``rounds`` rounds."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {**os.environ, **running.env, "COLUMNS": str(columns), "LINES": "40", "TERM": "xterm-256color"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "akslbctl", *argv], stdout=follower, stderr=follower, stdin=follower, env=env
    )
    os.close(follower)
    raw = b""

    def read(until: float) -> bytes:
        """What the terminal received next, b"" at its end or once ``until`` (monotonic) has passed."""
        import select

        left = until - time.monotonic()
        if left <= 0 or not select.select([leader], [], [], left)[0]:
            return b""
        try:
            return os.read(leader, 65536)
        except OSError:  # the other side closed
            return b""

    try:
        deadline = time.monotonic() + 60
        while raw.count(b"Round ") < rounds:
            chunk = read(deadline)
            if not chunk:
                break
            raw += chunk
        proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 30
        while chunk := read(deadline):
            raw += chunk
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    assert proc.returncode == 130, raw.decode(errors="replace")[-2000:]
    return raw.decode("utf-8", errors="replace")


def _cells(line: str) -> int:
    from rich.cells import cell_len

    return cell_len(line)


def test_watch_on_an_80_column_terminal_fits_and_moves_azures_words_under_the_member(lab):
    running = lab("nsg-blocks-probe")  # Azure disagrees with ours on every node: every column in use
    raw = run_on_pty(running, "probe", "svc/web", "--watch", "--interval", "0.2", columns=80, rounds=2)
    lines = screen_lines(raw)
    assert [line for line in lines if _cells(line) > 80] == []
    assert "Traceback" not in raw
    for node in NODES:
        rows = [line for line in lines if line.startswith(node + " ")]
        assert rows, f"{node} cut or missing"
        assert all("down (Azure)" in row for row in rows)
    assert any(line == "    Azure: down: TCP probe timed out ≠ ours" for line in lines)
    assert any(line.startswith("NODE ") and "LB STATE" in line and "AZURE SAYS" not in line for line in lines)
    # Long names shortened as explain does; the vantage and the finding wrap under their heads, uncut.
    titles = [line for line in lines if line.startswith("probe ")]
    assert titles and all(re.match(r"probe a[0-9a-f]{7}…-TCP-80: Tcp :30396", t) for t in titles)
    assert "         168.63.129.16. NSG rules and host firewalls that treat that source" in lines
    finding = [line for line in lines if line.startswith("⚠ azure-probe-disagreement ")]
    assert len(finding) == 1
    assert any(line.endswith("host firewall on the node.") and line.startswith("  ") for line in lines)
    assert re.search(r"After round \d+: DARK — no member is up for the LB on a[0-9a-f]{7}…-TCP-80\.", raw)


def test_live_table_at_120_columns_has_every_column_on_one_line(lab, monkeypatch):
    from test_terminal import run_on_tty

    lab("hanging-health")
    monkeypatch.setenv("COLUMNS", "120")
    result = run_on_tty("probe", "svc/web", "--count", "2", "--interval", "0", "--timeout", "0.3", stderr_tty=False)
    assert result.exit_code == 0, result.stderr
    lines = screen_lines(result.stdout)
    assert [line for line in lines if _cells(line) > 120] == []
    header = next(line for line in lines if line.startswith("NODE "))
    assert header.split() == ["NODE", "ADDRESS", "RESULT", "LATENCY", "LB", "STATE", "HISTORY", "AZURE", "SAYS"]
    slow = [line for line in lines if line.startswith(NODES[1] + " ")]
    assert slow and "timeout" in slow[-1] and slow[-1].endswith("down: no HTTP response")


def test_live_table_narrower_than_a_row_cuts_with_an_ellipsis_never_a_node_name(lab, monkeypatch):
    from test_terminal import run_on_tty

    lab("nsg-blocks-probe")
    monkeypatch.setenv("COLUMNS", "50")
    result = run_on_tty("probe", "svc/web", "--count", "2", "--interval", "0", stderr_tty=False)
    assert result.exit_code == 1, result.stderr
    lines = screen_lines(result.stdout)
    assert [line for line in lines if _cells(line) > 50] == []
    rows = [line for line in lines if line.startswith(NODES[0])]
    assert rows and all(row.startswith(NODES[0] + " ") for row in rows)
    # A member's row is longer than 50 cells: it ends in an ellipsis, not in a silent cut.
    assert all(row.endswith("…") for row in rows)
    # Wrapped text is whole: the finding's last words are there.
    assert any(line.endswith("host firewall on the node.") for line in lines)
