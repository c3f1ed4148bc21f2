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
from akslbctl.records import record
from akslbctl.render.document import API_VERSION
from akslbctl.render.table import AZURE_PLAIN, SEVERITY_MARK, _short
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
    rules = ", ".join(_short(r.rule.name) for r in p.planned.rules)
    return f"probe {_short(probe.name)}: {what}, threshold {probe.threshold} · rules {rules}"


def summary_text(rnd: Round | None) -> tuple[str, bool]:
    """The closing line and whether it is good news."""
    if rnd is None:
        return "no round ran.", False
    serving = [r for r in rnd.rules if not r.leftover]
    leftovers = [r for r in rnd.rules if r.leftover]
    # A leftover rule (stale-rule) is drift, as explain tells it: named, never what makes the Service dark.
    extra = (
        "; leftover " + ", ".join(f"{_short(r.name)} {r.up}/{r.members}" for r in leftovers) + " (stale-rule: see diff)"
        if leftovers
        else ""
    )
    # Unknown members (neither our probe nor Azure's view reached them) are never counted as down.
    blind = [r for r in serving if r.up == 0 and r.members and r.unknown == r.members]
    dark = [r for r in serving if r.up == 0 and not r.unknown]
    if dark:
        names = ", ".join(_short(r.name) for r in dark)
        return f"After round {rnd.number}: DARK — no member is up for the LB on {names}{extra}.", False
    unsure = [r for r in serving if r.up == 0 and r.unknown and r not in blind]
    if unsure:
        names = ", ".join(
            f"{_short(r.name)} ({r.unknown} of {r.members} not seen from here or by Azure)" for r in unsure
        )
        return f"After round {rnd.number}: no member is known to be up for the LB on {names}{extra}.", False
    if blind:
        names = ", ".join(_short(r.name) for r in blind)
        return (
            f"After round {rnd.number}: NO VERDICT for {names} — no probe reached a node from here and Azure's "
            f"view is unavailable{extra}.",
            False,
        )
    parts = ", ".join(f"{_short(r.name)} {r.up}/{r.members}" for r in serving)
    every = "every rule of the Service" if leftovers else "every rule"
    return f"After round {rnd.number}: {every} has a member up for the LB ({parts}){extra}.", True


def _header_lines(plan: WatchPlan) -> list[tuple[str, str]]:
    s = plan.service
    policy = f"externalTrafficPolicy {s.external_traffic_policy}"
    lines = [("Service", f"{s.namespace}/{s.name} · {policy} · LB {plan.load_balancer}")]
    for r in plan.rules:
        if r.probe_key is None:
            lines.append(("Rule", f"{_short(r.name)}: no probe — the LB sends to all {r.members} pool member(s)"))
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
    disagree with Azure come first; the rest is summarised when the terminal is too short.

    It fits the terminal's width (80 columns included), as ``explain`` does: long lines wrap under
    their head, columns give way in a fixed order (see :func:`member_layout`), and a line that must
    stay one line ends in ``…`` where it is cut — nothing is cut silently, and never a node name."""

    def __init__(self, terminal) -> None:
        self.terminal = terminal
        self.console = terminal.console()
        self._live = None
        self._seen: set[str] = set()
        self._news: list[tuple[str, str, str]] = []

    @property
    def width(self) -> int:
        return max(self.console.width or 80, 40)

    def start(self, plan: WatchPlan) -> None:
        from rich.live import Live
        from rich.text import Text

        from akslbctl.render.wrap import hanging

        self.plan = plan
        head = Text("\n").join(
            hanging(f"{key:<9}", value, self.width, head_style="bold") for key, value in _header_lines(plan)
        )
        self.console.print(head, no_wrap=True, overflow="ellipsis")
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
        from akslbctl.render.wrap import hanging

        if self._live is not None:
            self._live.stop()
            self._live = None
        for mark, style, text in self._news:
            line = hanging(f"{mark} ", text, self.width, head_style=style or "dim")
            self.console.print(line, no_wrap=True, overflow="ellipsis")
        if last is not None:
            text, good = summary_text(last)
            style = "bold green" if good else "bold red"
            self.console.print(hanging("", text, self.width, body_style=style), no_wrap=True, overflow="ellipsis")

    def _render(self, rnd: Round):
        from rich.text import Text

        from akslbctl.render.wrap import fit, wrap_lines

        width = self.width
        height = max(self.console.size.height - 2, 8)
        # One line each, cut with an ellipsis where the terminal is narrower (rich does the cut).
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(f"Round {rnd.number}", style="bold")
        out.append(f" · {rnd.at} · probed in {rnd.elapsed_ms:.0f} ms")
        if rnd.azure_age is not None:
            out.append(f" · Azure's view {rnd.azure_age:.0f} s old", style="dim")
        titles = []
        for p in rnd.probes:
            counts = f"{p.up}/{len(p.nodes)} up"
            # the count stays in one piece: a no-break space while wrapping
            lines = wrap_lines(f"{probe_title(p)} · {counts.replace(' ', NBSP)}", width - 2)
            lines = [x.replace(NBSP, " ") for x in lines]
            titles.append([fit(lines[0], width), *("  " + fit(x, width - 2) for x in lines[1:])])
        used = 1 + sum(len(t) + 1 for t in titles)  # round line, each probe's title and column header
        budget = max(height - used, len(rnd.probes))
        share = max(budget // max(len(rnd.probes), 1), 1)
        for p, title in zip(rnd.probes, titles, strict=True):
            counts = f"{p.up}/{len(p.nodes)} up"
            for i, line in enumerate(title):
                out.append("\n")
                last = i == len(title) - 1
                if last and line.endswith(counts):  # the count in colour, the rest bold
                    out.append(line[: -len(counts)], style="bold")
                    out.append(counts, style="bold green" if p.up else "bold red")
                else:
                    out.append(line, style="bold")
            out.append("\n")
            out.append_text(self._rows(p, share, width))
        if not rnd.probes:
            out.append("\nnothing to probe: no rule of the Service has a health probe", style="dim")
        return out

    def _rows(self, p: ProbeRound, limit: int, width: int):
        """The column header and the members, worst first, in at most ``limit`` lines."""
        from rich.text import Text

        from akslbctl.render.wrap import fit

        nodes = sorted(p.nodes, key=_urgency)
        layout = member_layout(p.nodes, width)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(fit(layout.header(), width), style="bold")
        per_member = 2 if layout.below else 1
        room = max(limit // per_member, 1)
        shown = nodes if len(nodes) <= room else nodes[: max(room - 1, 1)]
        for n in shown:
            text.append("\n")
            text.append(f"{n.node:<{layout.name_w}}", style="bold" if n.state.flipped else "")
            if layout.address:
                text.append(f"  {n.address:<{layout.addr_w}}")
            text.append(f"  {result_cell(n):<{layout.result_w}}", style=_result_style(n))
            if layout.latency:
                text.append(f"  {latency_cell(n):>{layout.latency_w}}")
            text.append(f"  {state_cell(n):<{layout.state_w}}", style=_state_style(n))
            text.append("  ")
            recent = n.state.history[-layout.history :]
            for r in recent:
                text.append("✓" if r else "✗", style="green" if r else _down_style(n))
            if layout.azure_w:
                text.append(" " * (layout.history_w - len(recent)))
                text.append("  " + fit(azure_cell(n), layout.azure_w), style=_azure_cell_style(n))
            below = layout.below_text(n)
            if below:
                line = fit("    " + below, width)
                text.append("\n" + line, style=_azure_cell_style(n) if n.azure is not None else "dim")
        hidden = nodes[len(shown) :]
        if hidden:
            up = sum(1 for n in hidden if n.up)
            more = f"… {len(hidden)} more member(s): {up} up, {len(hidden) - up} down"
            text.append("\n" + fit(more, width), style="dim")
        return text


GAP = 2
NBSP = "\u00a0"
AZURE_MIN = 16  # narrower than this, Azure's words go on a line of their own under the member


@record(frozen=True)
class MemberLayout:
    """Which columns a width holds, and how wide each is. What gives way on a narrow terminal, in this
    order: HISTORY shortens to 7 results, ADDRESS goes, AZURE SAYS moves to a line under the member,
    then LATENCY joins it there. NODE is never cut or dropped."""

    name_w: int
    addr_w: int
    result_w: int
    latency_w: int
    state_w: int
    history: int  # results shown
    address: bool
    latency: bool
    azure_w: int  # 0: no AZURE SAYS column
    below: bool  # Azure's words (and the latency when dropped) on a second line

    @property
    def history_w(self) -> int:
        return max(self.history, len("HISTORY"))

    def header(self) -> str:
        head = f"{'NODE':<{self.name_w}}"
        if self.address:
            head += f"  {'ADDRESS':<{self.addr_w}}"
        head += f"  {'RESULT':<{self.result_w}}"
        if self.latency:
            head += f"  {'LATENCY':>{self.latency_w}}"
        head += f"  {'LB STATE':<{self.state_w}}  {'HISTORY':<{self.history_w}}"
        if self.azure_w:
            head += "  AZURE SAYS"
        return head.rstrip()

    def below_text(self, n: NodeRound) -> str:
        if not self.below:
            return ""
        parts = []
        if not self.latency and latency_cell(n) != "-":
            parts.append(f"latency {latency_cell(n)}")
        if n.azure is not None:
            parts.append(f"Azure: {azure_cell(n)}")
        return " · ".join(parts)


def member_layout(nodes, width: int) -> MemberLayout:
    """The widest layout of :class:`MemberLayout` that fits ``width``."""
    names = [n.node for n in nodes]
    name_w = max([4, *(len(x) for x in names)])
    addr_w = max([7, *(len(n.address) for n in nodes)])
    result_w = max([6, *(len(result_cell(n)) for n in nodes)])
    latency_w = max([7, *(len(latency_cell(n)) for n in nodes)])
    state_w = max([8, *(len(state_cell(n)) for n in nodes)])
    show_azure = any(n.azure is not None for n in nodes)
    azure_need = max([10, *(len(azure_cell(n)) for n in nodes)]) if show_azure else 0

    def used(address: bool, latency: bool, history_w: int) -> int:
        total = name_w + GAP + result_w + GAP + state_w + GAP + history_w
        if address:
            total += GAP + addr_w
        if latency:
            total += GAP + latency_w
        return total

    if show_azure:  # (address, latency, Azure inline, Azure's words must stay whole)
        steps = [(True, True, True, True), (False, True, True, False), (False, True, False, False)]
    else:
        steps = [(True, True, False, False), (False, True, False, False)]
    steps.append((False, False, False, False))
    for address, latency, inline, whole in steps:
        base = used(address, latency, 7)
        if inline:
            azure_room = width - base - GAP
            if azure_room < (azure_need if whole else min(azure_need, AZURE_MIN)):
                continue
            azure_w = min(azure_need, azure_room)
            history = min(12, 7 + azure_room - azure_w)
        else:
            if base > width and (address or latency):
                continue
            azure_w = 0
            history = min(12, 7 + max(0, width - base))
        return MemberLayout(
            name_w, addr_w, result_w, latency_w, state_w, history, address, latency, azure_w, show_azure and not inline
        )
    # Nothing fits (a node name about as wide as the terminal): the narrowest layout; its lines end in "…".
    return MemberLayout(name_w, addr_w, result_w, latency_w, state_w, 7, False, False, 0, show_azure)


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


def _result_style(n: NodeRound) -> str:
    return "green" if n.ok else _down_style(n) if n.ok is False else "dim"


def _azure_cell_style(n: NodeRound) -> str:
    return "dim" if n.azure is None else "yellow" if n.disagreement else _azure_style(n)


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
