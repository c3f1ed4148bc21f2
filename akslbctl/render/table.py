"""Human output: a short header and one row per node, with a verdict colour that means something.

Colours: green = the LB sends traffic there; red = down and nothing in the cluster explains it;
yellow = down as the cluster state predicts (e.g. externalTrafficPolicy: Local without a local pod),
or not known; dim = not in the backend pool.

Rows are laid out here rather than with ``rich.table.Table``: that measures every cell and costs
~0.28 ms a row (1.4 s for 5,000 nodes), against ~0.03 ms for styled lines. The layout also keeps its
promise to users: a node name is never cut, whatever the width; the "why" column wraps instead.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from akslbctl.analysis.fusion import AZURE_UP, BLOCKED_BEFORE_NODE, UNREACHABLE_FROM_HERE
from akslbctl.model.report import (
    ABSENT,
    DOWN,
    ERROR,
    INFO,
    UNKNOWN,
    UP,
    WARNING,
    Diagnosis,
    NodeVerdict,
    RuleDiagnosis,
)
from akslbctl.records import record
from akslbctl.render.story import next_command, ordered, severity_style, tally

SEVERITY_MARK = {ERROR: ("✖", "bold red"), WARNING: ("⚠", "yellow"), INFO: ("ℹ", "cyan")}
AZURE_PLAIN = {
    "Up_Probe_Success": "up: probe succeeds",
    "Up_Probe_AllDownIsUp": "up: all down, sends to all",
    "Up_Probe_ApproachingUnhealthyThreshold": "up, but probes failing",
    "Up_Admin": "up: admin state Up",
    "Up_Platform": "up (platform)",
    "Down_Probe_ApproachingHealthyThreshold": "down, probes recovering",
    "Down_Probe_HttpStatusCodeError": "down: HTTP status not 200",
    "Down_Probe_HttpEndpointUnreachable": "down: endpoint unreachable",  # ≤ 30: fits 80 columns
    "Down_Probe_HttpNoResponse": "down: no HTTP response",
    "Down_Probe_TcpProbeTimeout": "down: TCP probe timed out",
    "Down_Probe_NoHealthyBackend": "down: no healthy backend",
    "Down_Admin": "down: admin state Down",
    "Down_Platform": "down (platform)",
    "NA": "not probed yet",
}


def azure_plain(state: str | None, reason: str | None) -> str:
    if reason and reason in AZURE_PLAIN:
        return AZURE_PLAIN[reason]
    if reason:
        return reason
    return (state or "no data").lower()


def contradicts(v: NodeVerdict) -> bool:
    """The node's verdict goes against what is expected of it: down with nothing in the cluster that
    predicts it, cluster state and the verdict disagreeing, or Azure and our probe disagreeing."""
    if v.verdict == DOWN and v.expected != DOWN:
        return True
    if v.expected in (UP, DOWN) and v.verdict in (UP, DOWN) and v.expected != v.verdict:
        return True
    if v.reason == BLOCKED_BEFORE_NODE:
        return True
    if v.azure is not None and v.azure.state and v.observed is not None and v.reached:
        return (v.azure.state.lower() == "up") != v.observed.up
    return False


def verdict_style(v: NodeVerdict, *, dark: bool = False, leftover: bool = False) -> str:
    """Red only for what contradicts the expectation or leaves the port dark; down by design (a Local
    node without a pod, a leftover rule) is yellow."""
    if v.verdict == UP:
        return "bold green"
    if v.verdict == DOWN:
        if leftover:
            return "yellow"
        return "bold red" if dark or v.expected != DOWN else "yellow"
    if v.verdict == ABSENT:
        return "dim"
    return "magenta"


def _azure_style(n: NodeVerdict, *, dark: bool = False, leftover: bool = False) -> str:
    """AZURE SAYS in the verdict's colours: Down is yellow where the node is down by design."""
    if n.azure is None or n.azure.state is None:
        return "dim"
    if n.azure.state.lower() == "up":
        return "green"
    if leftover or (not dark and n.expected == DOWN and n.reason != BLOCKED_BEFORE_NODE):
        return "yellow"
    return "red"


@record(frozen=True)
class Column:
    header: str
    width: int  # 0 = flexible (takes the rest, wraps)
    keep: bool = False  # never cut, never dropped


def _short(name: str, prefix_len: int = 8) -> str:
    """``a1b2c3d4e5f60718293a4b5c6d7e8f90-TCP-80`` → ``a1b2c3d4…-TCP-80`` for headers."""
    head, sep, tail = name.partition("-")
    if len(head) == 32 and head.startswith("a"):
        return f"{head[:prefix_len]}…{sep}{tail}" if sep else f"{head[:prefix_len]}…"
    return name


def render_diagnosis(
    d: Diagnosis,
    console,
    *,
    wide: bool = False,
    prog: str = "akslbctl",
    all_nodes: bool = False,
    case_file: str | None = None,
) -> None:
    """``wide`` adds columns and prints every node; ``all_nodes`` prints every node. Otherwise a table
    of more than GROUP_ABOVE nodes shows the nodes worth reading first and folds the rest (:func:`fold`)."""
    from rich.text import Text

    width = max(console.width or 80, 40)
    out: list = []
    s = d.service
    policy = f"externalTrafficPolicy {s.external_traffic_policy}"
    if s.is_local and s.health_check_node_port:
        policy += f" · healthCheckNodePort {s.health_check_node_port}"
    out.append(kv_line("Service", f"{s.namespace}/{s.name} · {policy}", width))
    lb = d.load_balancer
    if lb is None:
        out.append(kv_line("LB", Text("none found", style="bold red")))
    else:
        fronts = ", ".join(f"{_short(n)} {ip or '(no IP)'}" for n, ip in d.frontends) or "no frontend"
        out.append(kv_line("LB", f"{lb.name} in {lb.resource_group} · frontend {fronts}", width))
    for r in d.rules:
        out.append(kv_line("Rule", _rule_line(r), width))
    if d.vantage and vantage_matters(d):
        out.append(kv_line("Probes", d.vantage, width))
    out.append(kv_line("Rules by", d.provider + (" · shared probe mode" if d.probe_mode == "shared" else ""), width))
    console.print(Text("\n").join(out), no_wrap=True, overflow="ignore", crop=False)

    for title, group in _group_rules(d.rules):
        console.print()
        heading = "\n".join(textwrap.wrap(title, width, subsequent_indent="    ", break_on_hyphens=False))
        console.print(Text(heading, style="bold"), no_wrap=True, overflow="ignore", crop=False)
        first = group[0]
        table = _node_table(
            first.nodes,
            width,
            wide,
            every=wide or all_nodes,
            dark=first.known and first.up == 0 and not first.leftover,
            leftover=first.leftover,
        )
        console.print(table, no_wrap=True, overflow="ignore", crop=False)
        if wide:
            share = share_lines(d, group, width)
            if share is not None:
                console.print(share, no_wrap=True, overflow="ignore", crop=False)

    if d.findings:
        print_findings(console, ordered(d.findings, [r.name for r in d.rules]), width)
    if d.notes:
        console.print()
        for note in d.notes:
            console.print(Text("note: ", style="dim") + Text(note), overflow="fold")
    console.print()
    console.print(footer(d, prog, case_file))


VANTAGE_SIGNALS = ("azure-probe-disagreement", "vantage-unreachable", "nsg-blocks-probe", "pls-proxy-protocol")


def vantage_matters(d: Diagnosis) -> bool:
    """Where the probes came from carries signal: no Azure view to compare with, or a disagreement."""
    if not any(n.azure is not None for r in d.rules for n in r.nodes):
        return True
    if any(f.code in VANTAGE_SIGNALS for f in d.findings):
        return True
    return any(n.reason in (BLOCKED_BEFORE_NODE, AZURE_UP) for r in d.rules for n in r.nodes)


def print_findings(console, findings, width: int) -> None:
    """The ``Findings`` block: one mark and code per finding (or group of findings), the message
    wrapped under itself. ``findings``: anything with ``severity``, ``code`` and ``message``."""
    from rich.text import Text

    console.print()
    console.print(Text("Findings", style="bold"))
    lines = []
    for f in findings:
        mark, style = SEVERITY_MARK.get(f.severity, ("·", ""))
        head = f"  {mark} {f.code}  "
        body = textwrap.wrap(f.message, max(width - len(head), 20), break_on_hyphens=False) or [""]
        line = Text.assemble((head, style), body[0])
        for extra in body[1:]:
            line.append("\n" + " " * len(head) + extra)
        lines.append(line)
    console.print(Text("\n").join(lines), no_wrap=True, overflow="ignore", crop=False)


def kv_line(key: str, value, width: int = 1000) -> object:
    """``Key      value``; a long value wraps under itself, indented past the key."""
    from rich.text import Text

    line = Text()
    line.append(f"{key:<9}", style="bold")  # the key alone: a Text's own style would cover the value too
    if isinstance(value, Text):
        line.append(value)
        return line
    parts = textwrap.wrap(str(value), max(width - 9, 30), break_on_hyphens=False) or [""]
    line.append(parts[0])
    for part in parts[1:]:
        line.append("\n" + " " * 9 + part)
    return line


def _rule_line(r: RuleDiagnosis) -> str:
    text = f"{r.protocol} {r.frontend_port} → {r.backend_port}  "
    if r.probe is None:
        text += "no probe"
    else:
        p = r.probe
        text += f"probe {p.protocol} :{p.port}"
        if p.protocol in ("Http", "Https"):
            text += f" {p.request_path or '/'}"
        text += f" (every {p.interval or '?'} s, threshold {p.threshold})"
    return f"{text}  [{_short(r.name)}]"


def group_rules(rules: Sequence[RuleDiagnosis], *, by_detail: bool = True) -> list[list[RuleDiagnosis]]:
    """Rules that share one probe and the same verdicts, in order (Local Services: all of them).

    ``by_detail``: rules must also agree on every node's detail sentence to share a group.
    """
    groups: dict[tuple, list[RuleDiagnosis]] = {}
    for r in rules:
        key = (
            r.leftover,
            None if r.probe is None else (r.probe.protocol, r.probe.port, r.probe.request_path),
            tuple((n.node, n.verdict, n.reason, n.detail if by_detail else None) for n in r.nodes),
        )
        groups.setdefault(key, []).append(r)
    return list(groups.values())


def _group_rules(rules: Sequence[RuleDiagnosis]) -> list[tuple[str, list[RuleDiagnosis]]]:
    """Titled groups for the node tables: one table per probe and verdicts."""
    titled = []
    for members in group_rules(rules):
        ports = ", ".join(f"{m.protocol} {m.frontend_port}" for m in members)
        p = members[0].probe
        probe = (
            "no probe"
            if p is None
            else f"probe {p.protocol} :{p.port}"
            + (f" {p.request_path or '/'}" if p.protocol in ("Http", "Https") else "")
        )
        up = members[0].up
        total = sum(1 for n in members[0].nodes if n.in_pool)
        leftover = " · leftover (stale-rule)" if members[0].leftover else ""
        titled.append((f"{ports} · {probe} · {up}/{total} pool members up{leftover}", members))
    return titled


GROUP_ABOVE = 20  # node rows a table prints one by one; past that it folds (``--all-nodes``: every row)

# Worst first, as probe --watch orders: what contradicts, no verdict, down by design, not in the pool, up.
CONTRADICTS, NO_VERDICT, BY_DESIGN, NOT_IN_POOL, IS_UP = range(5)


def rank(v: NodeVerdict, *, leftover: bool = False) -> int:
    if v.verdict == UNKNOWN:
        return NO_VERDICT
    if not leftover and contradicts(v):
        return CONTRADICTS
    if v.verdict == DOWN:
        return BY_DESIGN
    if v.verdict == ABSENT:
        return NOT_IN_POOL
    return IS_UP


@record(frozen=True)
class Fold:
    """Nodes told on one row: the same verdict, reason, Azure state and reason sentence."""

    nodes: tuple[NodeVerdict, ...]
    detail: str

    @property
    def first(self) -> NodeVerdict:
        return self.nodes[0]


_COUNTS = re.compile(r", localEndpoints \d+")


def fold(nodes: Sequence[NodeVerdict], *, leftover: bool = False, budget: int = GROUP_ABOVE) -> list:
    """The rows of a big table: nodes worth reading come first, one row each, while they fit in
    ``budget``; the rest fold into one row per identical reason (``997 nodes · up · … · GET :32649/healthz
    → 200``). Nodes that are up always fold; so does a group of nodes that are not up once the rows
    told one by one would pass the budget. Returns NodeVerdicts and Folds, worst first."""
    from akslbctl.render.story import natural_key

    groups: dict[tuple, list[NodeVerdict]] = {}
    for n in sorted(nodes, key=lambda v: (rank(v, leftover=leftover), natural_key(v.node))):
        key = (rank(n, leftover=leftover), n.verdict, n.reason, n.in_pool, _azure_cell(n), _COUNTS.sub("", n.detail))
        groups.setdefault(key, []).append(n)
    rows: list = []
    told = 0
    for key, members in groups.items():
        if len(members) == 1 or (key[0] != IS_UP and told + len(members) <= budget):
            rows.extend(members)
            told += len(members)
        else:
            rows.append(Fold(tuple(members), key[-1]))
    return rows


def _node_table(
    nodes: Sequence[NodeVerdict],
    width: int,
    wide: bool,
    *,
    every: bool = True,
    dark: bool = False,
    leftover: bool = False,
):
    from rich.text import Text

    from akslbctl.render.story import node_ranges

    rows: list = list(nodes) if every or len(nodes) <= GROUP_ABOVE else fold(nodes, leftover=leftover)
    folded = sum(len(r.nodes) for r in rows if isinstance(r, Fold))

    def label(r) -> str:
        return f"{len(r.nodes)} nodes" if isinstance(r, Fold) else r.node

    show_azure = any(n.azure is not None for n in nodes)
    name_w = max([len("NODE"), *(len(label(r)) for r in rows)])
    cols: list[tuple[str, int]] = [("NODE", name_w)]
    if wide:
        cols.append(("ADDRESS", max([len("ADDRESS"), *(len(n.address or "-") for n in nodes)])))
    cols += [("POOL", 4), ("VERDICT", 7)]
    if wide:
        cols += [("EXPECTED", 8), ("LATENCY", 8)]
    if show_azure:
        cols.append(("AZURE SAYS", max([10, *(len(_azure_cell(n)) for n in nodes)])))
    gap = 2
    # Too narrow for the wide columns (80 columns): they go first, latency, then the expectation, then the
    # address, and their values move to the line under the node with the reason.
    moved: list[str] = []
    # Azure's words go last, and only where a long node name leaves them no room.
    for extra in ("LATENCY", "EXPECTED", "ADDRESS", "AZURE SAYS"):
        if sum(w for _, w in cols) + gap * (len(cols) - 1) <= width:
            break
        if any(title == extra for title, _ in cols):
            cols = [c for c in cols if c[0] != extra]
            moved.append(extra)
    fixed = sum(w for _, w in cols) + gap * len(cols)
    why_w = width - fixed
    why_below = why_w < 24 or bool(moved)  # too narrow: the reason goes on its own indented line
    header = Text()
    for title, w in cols:
        header.append(title.ljust(w + gap), style="bold")
    if not why_below:
        header.append("WHY", style="bold")
    header.rstrip()
    lines = [header]
    for r in rows:
        n = r.first if isinstance(r, Fold) else r
        detail = n.detail
        if isinstance(r, Fold):
            detail = r.detail
            if rank(n, leftover=leftover) != IS_UP:  # who they are, when they are worth a look
                detail += f" ({node_ranges([m.node for m in r.nodes])})"
        latency = n.observed.latency_ms if n.observed and n.observed.latency_ms is not None else None
        cells = {
            "NODE": (label(r), "bold" if isinstance(r, Fold) else ""),
            "ADDRESS": (n.address or "-", ""),
            "POOL": ("yes" if n.in_pool else "no", "" if n.in_pool else "dim"),
            "VERDICT": (n.verdict, verdict_style(n, dark=dark, leftover=leftover)),
            "EXPECTED": (n.expected or "-", ""),
            "LATENCY": ("-" if latency is None else f"{latency:.0f} ms", ""),
        }
        if show_azure:
            cells["AZURE SAYS"] = (_azure_cell(n), _azure_style(n, dark=dark, leftover=leftover))
        line = Text()
        for title, w in cols:
            value, style = cells[title]
            line.append(value.ljust(w + gap), style=style)
        dim = "dim" if n.verdict == ABSENT else ""
        if why_below:
            line.rstrip()
            extras = [title for title in reversed(moved) if cells[title][0] != "-"]
            if not extras:  # the common case, and the fast one
                for part in textwrap.wrap(detail, max(width - 4, 20), break_on_hyphens=False):
                    line.append("\n    " + part, style=dim)
                lines.append(line)
                continue
            below = Text(style=dim)
            for title in extras:  # moved columns keep their colour
                below.append(f"{title.lower()} ")
                below.append(cells[title][0], style=cells[title][1])
                below.append(" · ")
            below.append(detail)
            for part in below.wrap(_measure_console(), max(width - 4, 20)):
                part.rstrip()
                line.append("\n    ")
                line.append_text(part)
        else:
            parts = textwrap.wrap(detail, why_w, break_on_hyphens=False) or [""]
            line.append(parts[0], style=dim)
            for part in parts[1:]:
                line.append("\n" + " " * fixed + part, style=dim)
        lines.append(line)
    if folded:
        note = (
            f"{folded} of {len(nodes)} nodes folded into rows by identical reason; --all-nodes or -o wide lists "
            "every node."
        )
        lines.append(Text("\n".join(textwrap.wrap(note, width, break_on_hyphens=False)), style="dim"))
    return Text("\n").join(lines)


def _measure_console():
    """A console only for measuring (Text.wrap needs one); nothing is printed through it."""
    from rich.console import Console

    global _MEASURE
    if _MEASURE is None:
        _MEASURE = Console(width=10_000, no_color=True, markup=False, emoji=False, highlight=False)
    return _MEASURE


_MEASURE = None


def _azure_cell(n: NodeVerdict) -> str:
    if n.azure is None:
        return "-"
    return azure_plain(n.azure.state, n.azure.reason)


def footer(d: Diagnosis, prog: str = "akslbctl", case_file: str | None = None):
    """The last word: what the LB does for the Service, what the findings say, in the worst finding's
    colour, and the command to run next on a line of its own (paste-able)."""
    from rich.text import Text

    head, style = _verdict_line(d)
    told = tally(d.findings, [r.name for r in d.rules])
    text = Text(head + (f" {told[0].upper()}{told[1:]}." if told else ""), style=style)
    step = next_command(d, prog, case_file)
    if step:
        text.append("\nNext: ", style="bold")
        text.append(step)
    return text


def _verdict_line(d: Diagnosis) -> tuple[str, str]:
    """The sentence about the traffic and its colour: red when the Service (or a port) is dark, magenta
    without a verdict, else the colour of the worst finding."""
    if d.load_balancer is None and d.provisioning_failed:
        return "The cloud provider has not built a load balancer for this Service: see above.", "bold red"
    if d.load_balancer is None:
        return "No load balancer found for this Service.", "bold red"
    if not d.rules:
        return "The load balancer has no rule for this Service.", "bold red"
    rules = d.serving_rules
    if not rules:
        return "The load balancer has only leftover rules for this Service: no port of it is served.", "bold red"
    nodes = {n.node for r in rules for n in r.nodes if n.in_pool}
    up_sets = [{v.node for v in r.nodes if v.verdict == UP} for r in rules]
    up_all = set.intersection(nodes, *up_sets) if up_sets else set()
    unknown = any(v.verdict == UNKNOWN for r in rules for v in r.nodes)
    dark = [r for r in rules if r.known and r.up == 0]
    if dark:
        ports = ", ".join(f"{r.protocol} {r.frontend_port}" for r in dark)
        return f"DARK: no node is up for the LB on {ports}.", "bold red"
    if unknown and not any(r.known for r in rules):
        if any(v.reason == UNREACHABLE_FROM_HERE for r in rules for v in r.nodes):
            return (
                f"NO VERDICT: {len(nodes)} pool members, none reached from here and Azure's view is unavailable.",
                "magenta",
            )
        return f"{len(nodes)} nodes in the backend pool; not probed.", "magenta"
    every = "on every rule" if len(rules) == len(d.rules) else "on every rule of the Service"
    return f"{len(up_all)} of {len(nodes)} pool members up for the LB {every}.", severity_style(d.findings)


def share_lines(d: Diagnosis, group: Sequence[RuleDiagnosis], width: int):
    """``-o wide``: the expected share per node and per pod of the group's first rule (analysis/share.py)."""
    from rich.text import Text

    s = next((x for x in d.shares if x.rule == group[0].name), None)
    if s is None:
        return None

    def pct(x: float) -> str:
        return f"{100 * x:.1f} %"

    how = "each up node an equal share" + (
        ", split among its local pods" if s.policy == "Local" else "; kube-proxy spreads again over every ready pod"
    )
    basis = "" if s.basis == "verdict" else " (no verdict known: from cluster state)"
    head = f"Expected share ({s.policy}, loadDistribution {s.load_distribution}{basis}): {how}"
    lines = [kv_line("Share", head, width)]
    for n in s.nodes:
        per = "-" if n.per_pod is None else pct(n.per_pod)
        lines.append(Text(f"  {n.node}  {pct(n.share)} of flows · {n.pods} pod(s) · {per} per pod"))
    return Text("\n").join(lines)


_summary = footer  # the name the tree view imports
