"""``probe`` output: a live table on a terminal, plain lines when piped, JSON Lines with ``-o json``.

Each round shows, per probe and pool member, the last result, its latency, the state the LB would
be in (with the progress towards a flip, e.g. ``up (1/2)``: one of the two consecutive failures that
take it out), a short history (``✓✓✗✗``) and what Azure says. Where the probes come from, and how that
can differ from Azure's, is said once per output.

Rows are styled lines, not ``rich.table.Table`` (see ``render.table``): a round over 5,000 members
must render in milliseconds, not seconds. rich is imported only by the terminal renderer.
"""

from __future__ import annotations

import json
from typing import Any

from akslbctl.analysis.azureview import AZURE_SOURCE
from akslbctl.model.probe import HTTP_STATUS, OK
from akslbctl.render.document import API_VERSION
from akslbctl.render.table import AZURE_PLAIN, SEVERITY_MARK
from akslbctl.watch import NodeRound, ProbeRound, Round, WatchPlan, vantage_note

# -- JSON Lines (contract §5) --------------------------------------------------------------------------


def vantage_doc(plan: WatchPlan) -> dict[str, Any]:
    return {"source": plan.source, "azureSource": AZURE_SOURCE, "note": vantage_note(plan.source)}


def _node_doc(n: NodeRound) -> dict[str, Any]:
    r = n.result
    return {
        "name": n.node,
        "address": n.address,
        "outcome": None if r is None else r.outcome,
        "status": None if r is None else r.status,
        "latencyMs": None if r is None or r.latency_ms is None else round(r.latency_ms, 1),
        "localEndpoints": None if r is None else r.local_endpoints,
        "state": n.lb,
        "stateFrom": n.lb_from,
        "flipped": n.state.flipped,
        "towardsFlip": n.state.against,
        "azure": None if n.azure is None else {"state": n.azure.state, "reason": n.azure.reason},
    }


def round_doc(plan: WatchPlan, rnd: Round) -> dict[str, Any]:
    """One ``ProbeRound`` document."""
    return {
        "apiVersion": API_VERSION,
        "kind": "ProbeRound",
        "round": rnd.number,
        "at": rnd.at,
        "elapsedMs": round(rnd.elapsed_ms, 1),
        "service": {"namespace": plan.service.namespace, "name": plan.service.name},
        "loadBalancer": plan.load_balancer,
        "vantage": vantage_doc(plan),
        "probes": [
            {
                "name": p.planned.probe.name,
                "protocol": p.planned.probe.protocol,
                "port": p.planned.probe.port,
                "path": p.planned.path,
                "intervalInSeconds": p.planned.probe.interval,
                "threshold": p.planned.probe.threshold,
                "rules": [r.rule.name for r in p.planned.rules],
                "up": p.up,
                "nodes": [_node_doc(n) for n in p.nodes],
            }
            for p in rnd.probes
        ],
        "rules": [{"name": r.name, "probe": r.probe, "up": r.up, "members": r.members} for r in rnd.rules],
        "findings": [
            {"code": f.code, "severity": f.severity, "message": f.message, "rule": f.rule, "node": f.node}
            for f in rnd.findings
        ],
        "notes": list(rnd.notes),
    }


class JsonLines:
    """One compact JSON document per round, one per line, flushed at once."""

    def __init__(self, terminal) -> None:
        self.out = terminal.stdout

    def start(self, plan: WatchPlan) -> None:
        self.plan = plan

    def round(self, rnd: Round) -> None:
        self.out.write(json.dumps(round_doc(self.plan, rnd), ensure_ascii=False, separators=(",", ":")) + "\n")
        self.out.flush()

    def close(self, last: Round | None) -> None:
        return None


# -- cells shared by the plain and the live renderers ------------------------------------------------------


def result_cell(n: NodeRound) -> str:
    r = n.result
    if r is None:
        return "-"
    if r.outcome == OK:
        return "ok" if r.status is None else f"ok {r.status}"
    if r.outcome == HTTP_STATUS:
        return f"http {r.status}"
    return r.outcome


def latency_cell(n: NodeRound) -> str:
    r = n.result
    if r is None or r.latency_ms is None:
        return "-"
    return f"{r.latency_ms:.0f} ms"


def state_cell(n: NodeRound) -> str:
    s = n.state
    if n.lb is None:
        return "unknown"
    if n.lb_from == "azure" and n.lb != s.state:
        return f"{n.lb} (Azure)"
    if s.flipped:
        return f"{s.state} {'↑' if s.up else '↓'}"
    if s.against:
        return f"{s.state} ({s.against}/{s.threshold})"
    return s.state


def azure_cell(n: NodeRound) -> str:
    if n.azure is None:
        return "-"
    a = n.azure
    text = AZURE_PLAIN.get(a.reason or "", a.reason or (a.state or "no data").lower())
    if n.disagreement is not None:
        text += " ≠ ours"
    return text


def probe_title(p: ProbeRound) -> str:
    probe = p.planned.probe
    path = p.planned.path
    what = f"{probe.protocol} :{probe.port}" + (f" {path}" if path else "")
    rules = ", ".join(r.rule.name for r in p.planned.rules)
    return f"probe {probe.name}: {what}, threshold {probe.threshold} · rules {rules}"


def summary_text(rnd: Round | None) -> tuple[str, bool]:
    """The closing line and whether it is good news."""
    if rnd is None:
        return "no round ran.", False
    serving = [r for r in rnd.rules if not r.leftover]
    leftovers = [r for r in rnd.rules if r.leftover]
    # A leftover rule (stale-rule) is drift, as explain tells it: named, never what makes the Service dark.
    extra = (
        "; leftover " + ", ".join(f"{r.name} {r.up}/{r.members}" for r in leftovers) + " (stale-rule: see diff)"
        if leftovers
        else ""
    )
    # Unknown members (neither our probe nor Azure's view reached them) are never counted as down.
    blind = [r for r in serving if r.up == 0 and r.members and r.unknown == r.members]
    dark = [r for r in serving if r.up == 0 and not r.unknown]
    if dark:
        names = ", ".join(r.name for r in dark)
        return f"After round {rnd.number}: DARK — no member is up for the LB on {names}{extra}.", False
    unsure = [r for r in serving if r.up == 0 and r.unknown and r not in blind]
    if unsure:
        names = ", ".join(f"{r.name} ({r.unknown} of {r.members} not seen from here or by Azure)" for r in unsure)
        return f"After round {rnd.number}: no member is known to be up for the LB on {names}{extra}.", False
    if blind:
        names = ", ".join(r.name for r in blind)
        return (
            f"After round {rnd.number}: NO VERDICT for {names} — no probe reached a node from here and Azure's "
            f"view is unavailable{extra}.",
            False,
        )
    parts = ", ".join(f"{r.name} {r.up}/{r.members}" for r in serving)
    every = "every rule of the Service" if leftovers else "every rule"
    return f"After round {rnd.number}: {every} has a member up for the LB ({parts}){extra}.", True


def _header_lines(plan: WatchPlan) -> list[tuple[str, str]]:
    s = plan.service
    policy = f"externalTrafficPolicy {s.external_traffic_policy}"
    lines = [("Service", f"{s.namespace}/{s.name} · {policy} · LB {plan.load_balancer}")]
    for r in plan.rules:
        if r.probe_key is None:
            lines.append(("Rule", f"{r.name}: no probe — the LB sends to all {r.members} pool member(s)"))
    rounds = "until Ctrl-C" if plan.count is None else f"{plan.count} round(s)"
    lines.append(("Rounds", f"every {plan.interval:g} s, {rounds}"))
    lines.append(("Vantage", vantage_note(plan.source)))
    return lines


def _news(rnd: Round, seen: set[str]) -> list[tuple[str, str, str]]:
    """Findings and notes not shown before: (mark, style, text)."""
    out = []
    for f in rnd.findings:
        key = f"{f.code}|{f.rule}|{f.message}"
        if key not in seen:
            seen.add(key)
            mark, style = SEVERITY_MARK.get(f.severity, ("·", ""))
            out.append((f"{mark} {f.code}", style, f.message))
    for note in rnd.notes:
        if f"note|{note}" not in seen:
            seen.add(f"note|{note}")
            out.append(("note:", "dim", note))
    return out


# -- plain lines (piped) ----------------------------------------------------------------------------------


class PlainLines:
    """A round header and one line per member per round, flushed per round: easy to grep and tail."""

    def __init__(self, terminal) -> None:
        self.out = terminal.stdout
        self._seen: set[str] = set()

    def start(self, plan: WatchPlan) -> None:
        self.plan = plan
        self.name_w = max([4, *(len(m.node) for p in plan.probes for m in p.members)])
        self.addr_w = max([7, *(len(m.address) for p in plan.probes for m in p.members)])
        for key, value in _header_lines(plan):
            self.out.write(f"{key:<9}{value}\n")
        self.out.flush()

    def round(self, rnd: Round) -> None:
        w = self.out.write
        w(f"\nround {rnd.number} · {rnd.at} · probed in {rnd.elapsed_ms:.0f} ms\n")
        for p in rnd.probes:
            w(f"  {probe_title(p)} · {p.up}/{len(p.nodes)} up\n")
            for n in p.nodes:
                w(
                    f"  #{rnd.number} {n.node:<{self.name_w}}  {n.address:<{self.addr_w}}  {result_cell(n):<11} "
                    f"{latency_cell(n):>8}  {state_cell(n):<10} {n.state.history_text():<12}  Azure: {azure_cell(n)}\n"
                )
        for mark, _style, text in _news(rnd, self._seen):
            w(f"  {mark} {text}\n")
        self.out.flush()

    def close(self, last: Round | None) -> None:
        if last is not None:
            self.out.write(f"\n{summary_text(last)[0]}\n")
            self.out.flush()


# -- live table (terminal) ------------------------------------------------------------------------------


class LiveTable:
    """A rich ``Live`` view redrawn once per round. Members that changed, are down, are flipping or
    disagree with Azure come first; the rest is summarised when the terminal is too short."""

    def __init__(self, terminal) -> None:
        self.terminal = terminal
        self.console = terminal.console()
        self._live = None
        self._seen: set[str] = set()
        self._news: list[tuple[str, str, str]] = []

    def start(self, plan: WatchPlan) -> None:
        from rich.live import Live
        from rich.text import Text

        self.plan = plan
        head = Text()
        for i, (key, value) in enumerate(_header_lines(plan)):
            if i:
                head.append("\n")
            head.append(f"{key:<9}", style="bold")
            head.append(value)
        self.console.print(head, overflow="fold")
        self.console.print()
        self._live = Live(
            Text("probing…", style="dim"),
            console=self.console,
            auto_refresh=False,
            transient=False,
            vertical_overflow="crop",
        )
        self._live.start()

    def round(self, rnd: Round) -> None:
        self._news.extend(_news(rnd, self._seen))
        if self._live is not None:
            self._live.update(self._render(rnd), refresh=True)

    def close(self, last: Round | None) -> None:
        from rich.text import Text

        if self._live is not None:
            self._live.stop()
            self._live = None
        for mark, style, text in self._news:
            line = Text(f"{mark} ", style=style or "dim")
            line.append(text)
            self.console.print(line, overflow="fold")
        if last is not None:
            text, good = summary_text(last)
            self.console.print(Text(text, style="bold green" if good else "bold red"))

    def _render(self, rnd: Round):
        from rich.text import Text

        height = max(self.console.size.height - 2, 8)
        out = Text(no_wrap=True, overflow="crop")
        out.append(f"Round {rnd.number}", style="bold")
        out.append(f" · {rnd.at} · probed in {rnd.elapsed_ms:.0f} ms")
        if rnd.azure_age is not None:
            out.append(f" · Azure's view {rnd.azure_age:.0f} s old", style="dim")
        used = 1
        budget = max(height - used - 2 * len(rnd.probes), len(rnd.probes))
        share = max(budget // max(len(rnd.probes), 1), 1)
        for p in rnd.probes:
            out.append("\n")
            out.append(f"{probe_title(p)} · ", style="bold")
            out.append(f"{p.up}/{len(p.nodes)} up", style="bold green" if p.up else "bold red")
            out.append("\n")
            out.append_text(self._rows(p, share))
        if not rnd.probes:
            out.append("\nnothing to probe: no rule of the Service has a health probe", style="dim")
        return out

    def _rows(self, p: ProbeRound, limit: int):
        """One line per member, never wrapped: at 80 columns the address goes and the history shortens;
        what still does not fit is cut at the right (Azure's words), never the node name."""
        from rich.text import Text

        nodes = sorted(p.nodes, key=_urgency)
        show_azure = any(n.azure is not None for n in p.nodes)
        width = self.console.width or 80
        name_w = max([4, *(len(n.node) for n in p.nodes)])
        addr_w = max([7, *(len(n.address) for n in p.nodes)])
        rest = 2 + 12 + 8 + 2 + 11  # result, latency, state and their gaps
        show_addr = width >= name_w + 2 + addr_w + rest + 13 + 20
        hist = _history_width(width - name_w - rest - (addr_w + 2 if show_addr else 0) - 20)
        head = f"{'NODE':<{name_w}}  " + (f"{'ADDRESS':<{addr_w}}  " if show_addr else "")
        hist_w = max(hist, len("HISTORY"))
        head += f"{'RESULT':<11} {'LATENCY':>8}  {'LB STATE':<10} {'HISTORY':<{hist_w}}"
        text = Text(no_wrap=True, overflow="crop")
        text.append(head + ("  AZURE SAYS" if show_azure else ""), style="bold")
        shown = nodes if len(nodes) <= limit else nodes[: max(limit - 1, 1)]
        for n in shown:
            text.append("\n")
            text.append(f"{n.node:<{name_w}}  ", style="bold" if n.state.flipped else "")
            if show_addr:
                text.append(f"{n.address:<{addr_w}}  ")
            text.append(f"{result_cell(n):<11} ", style="green" if n.ok else _down_style(n) if n.ok is False else "dim")
            text.append(f"{latency_cell(n):>8}  ")
            text.append(f"{state_cell(n):<10} ", style=_state_style(n))
            recent = n.state.history[-hist:]
            for r in recent:
                text.append("✓" if r else "✗", style="green" if r else _down_style(n))
            text.append(" " * (hist_w - len(recent)))
            if show_azure:
                style = "dim" if n.azure is None else "yellow" if n.disagreement else _azure_style(n)
                text.append("  " + azure_cell(n), style=style)
        hidden = nodes[len(shown) :]
        if hidden:
            up = sum(1 for n in hidden if n.up)
            text.append(f"\n… {len(hidden)} more member(s): {up} up, {len(hidden) - up} down", style="dim")
        return text


def _history_width(room: int) -> int:
    """How many past results the HISTORY column shows: 12 where there is room, at least 4."""
    return max(4, min(12, room))


def _urgency(n: NodeRound) -> tuple[int, str]:
    if n.state.flipped:
        rank = 0
    elif n.disagreement is not None:
        rank = 1
    elif n.state.against:
        rank = 2
    elif not n.up:
        rank = 3
    else:
        rank = 4
    return rank, n.node


def by_design(n: NodeRound) -> bool:
    """Down as the cluster says it should be: kube-proxy answers that the node has no local endpoint
    (a Local Service's node without a pod). Yellow, never red: nothing contradicts the expectation."""
    r = n.result
    return r is not None and not r.up and r.local_endpoints == 0 and n.disagreement is None


def _down_style(n: NodeRound) -> str:
    return "yellow" if by_design(n) else "red"


def _state_style(n: NodeRound) -> str:
    if n.lb is None:
        return "magenta"
    base = "green" if n.up else _down_style(n)
    if n.state.flipped:
        return f"bold reverse {base}"
    if n.state.against:
        return f"bold {base}"
    return base


def _azure_style(n: NodeRound) -> str:
    state = (n.azure.state or "").lower() if n.azure is not None else ""
    return "green" if state == "up" else _down_style(n) if state == "down" else "dim"


def renderer(output: str, terminal):
    """The renderer for ``-o`` and the terminal: JSON Lines, a live table on a TTY, plain lines."""
    if output == "json":
        return JsonLines(terminal)
    if terminal.isatty():
        return LiveTable(terminal)
    return PlainLines(terminal)
