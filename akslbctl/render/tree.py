"""``explain --tree``: the path traffic takes, as a tree — frontend → rules → probe → nodes → pods.

The table answers "which nodes are up"; the tree shows how the pieces hang together, which is what a
support ticket needs when several rules share a probe, a Service has two frontends, or the pods sit on
nodes the LB does not send to. Pods come from the Service's EndpointSlices (their targetRefs), under
the node they run on.
"""

from __future__ import annotations

from collections.abc import Sequence

from akslbctl.model.case import Case
from akslbctl.model.report import ABSENT, DOWN, UNKNOWN, UP, Diagnosis, RuleDiagnosis
from akslbctl.render.table import (
    SEVERITY_MARK,
    _azure_style,
    _short,
    _summary,
    azure_plain,
    group_rules,
    vantage_matters,
    verdict_style,
)

MARKS = {UP: "●", DOWN: "●", ABSENT: "○", UNKNOWN: "?"}


def pods_by_node(case: Case | None) -> dict[str, list[tuple[str, str]]]:
    """``{node: [(namespace/pod, state)]}`` from the EndpointSlices, each pod once."""
    out: dict[str, list[tuple[str, str]]] = {}
    seen: set[str] = set()
    for ep in case.endpoints if case is not None else ():
        ref = ep.target_ref or ""
        kind, _, rest = ref.partition("/")
        if kind != "Pod" or not rest or ref in seen:
            continue
        seen.add(ref)
        state = "terminating" if ep.terminating else "ready" if ep.ready else "not ready"
        out.setdefault(ep.node_name or "(no node)", []).append((rest, state))
    for pods in out.values():
        pods.sort()
    return out


def render_tree(d: Diagnosis, case: Case | None, console) -> None:
    from rich.text import Text
    from rich.tree import Tree

    from akslbctl.render.wrap import hanging

    width = max(console.width or 80, 40)
    s = d.service
    head = Text.assemble(("Service ", "bold"), s.ref, f" · externalTrafficPolicy {s.external_traffic_policy}")
    if s.is_local and s.health_check_node_port:
        head.append(f" · healthCheckNodePort {s.health_check_node_port}")
    root = Tree(head, guide_style="dim")
    lb = d.load_balancer
    if lb is None:
        root.add(Text("no load balancer found for this Service", style="bold red"))
        console.print(root)
        _findings(d, console)
        return
    lb_node = root.add(Text.assemble(("LB ", "bold"), f"{lb.name} in {lb.resource_group}"))
    pods = pods_by_node(case)
    frontends = list(d.frontends) or [("(no frontend)", None)]
    placed: set[int] = set()
    for index, (name, ip) in enumerate(frontends):
        rules = [r for i, r in enumerate(d.rules) if r.frontend_ip == ip or (index == 0 and _orphan(r, frontends))]
        placed.update(i for i, r in enumerate(d.rules) if r in rules)
        front = lb_node.add(Text.assemble(("frontend ", "bold"), f"{_short(name)} {ip or '(no IP)'}"))
        if not rules:
            front.add(Text("no rule of this Service", style="dim"))
        for group in group_rules(sorted(rules, key=lambda r: (r.protocol, r.frontend_port)), by_detail=False):
            _add_rules(front, group, pods, width)
    console.print(root, overflow="fold")
    if d.vantage and vantage_matters(d):
        console.print(hanging(f"{'Probes':<9}", d.vantage, width, head_style="bold"), no_wrap=True, overflow="ignore")
    _findings(d, console)
    if d.notes:
        console.print()
        for note in d.notes:
            console.print(hanging("note: ", note, width, head_style="dim"), no_wrap=True, overflow="ignore")
    console.print()
    console.print(_summary(d), overflow="fold")


def _orphan(rule: RuleDiagnosis, frontends: Sequence[tuple[str, str | None]]) -> bool:
    return rule.frontend_ip not in {ip for _, ip in frontends}


NODE_INDENT = 20  # where a node's line starts in the tree: five levels of guides


def _add_rules(parent, rules: list[RuleDiagnosis], pods: dict[str, list[tuple[str, str]]], width: int) -> None:
    from rich.cells import cell_len
    from rich.text import Text

    from akslbctl.render.wrap import wrap_lines

    label = "rules " if len(rules) > 1 else "rule "
    text = Text(label, style="bold")
    text.append(", ".join(f"{r.protocol} {r.frontend_port} → {r.backend_port}" for r in rules))
    text.append(f"  [{', '.join(_short(r.name) for r in rules)}]", style="dim")
    rule_node = parent.add(text)
    first = rules[0]
    p = first.probe
    in_pool = sum(1 for n in first.nodes if n.in_pool)
    if p is None:
        probe = Text.assemble(("no probe", "bold"), " · the LB sends to every pool member")
    else:
        probe = Text.assemble(("probe ", "bold"), f"{p.protocol} :{p.port}")
        if p.protocol in ("Http", "Https"):
            probe.append(f" {p.request_path or '/'}")
        probe.append(f" · every {p.interval or '?'} s, threshold {p.threshold}")
    counts = f" · {first.up}/{in_pool} up" if first.known else " · not probed"
    dark = first.known and not first.up and not first.leftover
    counts_style = (
        "magenta" if not first.known else "yellow" if first.leftover else "bold red" if dark else "bold green"
    )
    probe.append(counts, style=counts_style)
    if first.leftover:
        probe.append(" · leftover (stale-rule)", style="yellow")
    probe_node = rule_node.add(probe)
    for n in first.nodes:
        style = verdict_style(n, dark=dark, leftover=first.leftover)
        line = Text.assemble((MARKS.get(n.verdict, "·"), style), " ", n.node, "  ", (n.verdict, style))
        # Azure's view on the node's line where it fits whole, else on a line of its own; the detail
        # under it. rich wraps each line under the node's mark, so the lines hang together.
        if n.azure is not None:
            azure = azure_plain(n.azure.state, n.azure.reason)
            inline = cell_len(line.plain) + 2 + len("Azure says: ") + cell_len(azure) <= width - NODE_INDENT
            line.append("  " if inline else "\n  ")
            line.append("Azure says: ", style="dim")
            line.append(azure, style=_azure_style(n, dark=dark, leftover=first.leftover))
        if n.detail:
            for part in wrap_lines(n.detail, width - NODE_INDENT - 2):
                line.append(f"\n  {part}", style="dim")
        node = probe_node.add(line)
        for pod, state in pods.get(n.node, []):
            pod_style = "green" if state == "ready" else "yellow"
            node.add(Text.assemble(("pod ", "dim"), pod, "  ", (state, pod_style)))


def _findings(d: Diagnosis, console) -> None:
    from rich.text import Text

    from akslbctl.render.wrap import hanging

    if not d.findings:
        return
    console.print()
    console.print(Text("Findings", style="bold"))
    from akslbctl.render.story import ordered

    width = max(console.width or 80, 40)

    for f in ordered(d.findings, [r.name for r in d.rules]):  # as the table tells them: by severity, grouped
        mark, style = SEVERITY_MARK.get(f.severity, ("·", ""))
        line = hanging(f"  {mark} {f.code}  ", f.message, width, head_style=style)
        console.print(line, no_wrap=True, overflow="ignore")
