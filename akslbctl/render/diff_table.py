"""Human output of ``akslbctl diff``: one row per difference (kind, object, field, expected, actual)
and, under it, one line on why it matters.

Rows are laid out as styled lines, like explain's table. Object names keep the Service's prefix
short (``a7c3e1f0…-TCP-80``); node names are never cut. When the five columns do not fit the
terminal (pool rows carry node names), each difference is written as a small block instead.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from akslbctl.model.report import Difference, LoadBalancerDiff
from akslbctl.render.table import kv_line, print_findings

HEADERS = ("KIND", "OBJECT", "FIELD", "EXPECTED", "ACTUAL")
GAP = 2
INDENT = 4
ANNOTATION_PREFIX = "service.beta.kubernetes.io/"
KIND_STYLE = {
    "service": "bold magenta",
    "frontend": "bold cyan",
    "rule": "bold",
    "probe": "bold",
    "backend-pool": "bold",
}


def short_name(name: str, keep: int = 8) -> str:
    """``a7c3e1f09b2d44e6a1c5f0e2d3b4a596-TCP-80`` → ``a7c3e1f0…-TCP-80``; ``lb/<P>-…`` keeps the ``lb/``."""
    lb, slash, rest = name.rpartition("/")
    head, sep, tail = rest.partition("-")
    if len(head) == 32 and head.startswith("a") and all(c in "0123456789abcdef" for c in head[1:].lower()):
        rest = f"{head[:keep]}…{sep}{tail}"
    return f"{lb}{slash}{rest}"


def cell(value: object) -> str:
    """A JSON scalar as a user reads it: ``-`` for none, ``true``/``false`` as ARM writes them."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_diff(d: LoadBalancerDiff, console) -> None:
    from rich.text import Text

    width = max(console.width or 80, 40)
    s = d.service
    head = [kv_line("Service", f"{s.namespace}/{s.name} · externalTrafficPolicy {s.external_traffic_policy}")]
    lb = d.load_balancer
    head.append(
        kv_line("LB", Text("none found", style="bold red") if lb is None else f"{lb.name} in {lb.resource_group}")
    )
    head.append(kv_line("Rules by", d.provider + (" · shared probe mode" if d.probe_mode == "shared" else "")))
    console.print(Text("\n").join(head), no_wrap=True, overflow="ignore", crop=False)

    if d.differences:
        console.print()
        console.print(_table(d.differences, width), no_wrap=True, overflow="ignore", crop=False)
    if d.findings:  # the provider's own word (Events) on why objects are missing
        print_findings(console, d.findings, width)
    if d.notes:
        console.print()
        for note in d.notes:
            console.print(Text("note: ", style="dim") + Text(note), overflow="fold")
    console.print()
    console.print(_summary(d))


def _rows(differences: Sequence[Difference]) -> list[tuple[str, str, str, str, str]]:
    return [(x.kind, short_name(x.name), short_field(x.field), cell(x.expected), cell(x.actual)) for x in differences]


def short_field(field: str) -> str:
    """Annotation keys (``service`` differences) without the common ``service.beta.kubernetes.io/``."""
    return field.removeprefix(ANNOTATION_PREFIX)


def _table(differences: Sequence[Difference], width: int):
    from rich.text import Text

    rows = _rows(differences)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADERS)]
    columns = sum(widths) + GAP * (len(widths) - 1) <= width
    why_width = max(width - INDENT, 20)
    lines = []
    if columns:
        header = Text()
        for i, (h, w) in enumerate(zip(HEADERS, widths, strict=True)):
            header.append(h if i == len(HEADERS) - 1 else h.ljust(w + GAP), style="bold")
        lines.append(header)
    for x, row in zip(differences, rows, strict=True):
        kind, name, field, expected, actual = row
        line = Text()
        styles = (KIND_STYLE.get(x.kind, "bold"), "", "", "green", "red")
        if columns:
            for i, (value, w, style) in enumerate(zip(row, widths, styles, strict=True)):
                line.append(value if i == len(row) - 1 else value.ljust(w + GAP), style=style)
        else:
            line.append(kind, style=styles[0])
            line.append(f"  {name}")
            if len(kind) + len(name) + len(field) + 2 * GAP <= width:
                line.append(f"  {field}")
            else:
                line.append("\n" + " " * INDENT + field)
            line.append("\n" + " " * INDENT + "expected ")
            line.append(expected, style="green")
            line.append(" · actual ")
            line.append(actual, style="red")
        for part in textwrap.wrap(x.message, why_width, break_on_hyphens=False, break_long_words=False):
            line.append("\n" + " " * INDENT + part, style="dim")
        lines.append(line)
    return Text("\n").join(lines)


def _summary(d: LoadBalancerDiff):
    from rich.text import Text

    if d.load_balancer is None:
        if d.provisioning_failed:
            return Text(
                "No load balancer for this Service yet: the cloud provider fails to build it "
                "(see provisioning-failed).",
                style="bold red",
            )
        return Text(
            "No load balancer found for this Service: nothing the provider would build is there.", style="bold red"
        )
    n = len(d.differences)
    if n == 0:
        return Text("No differences: the load balancer is what the cloud provider would configure.", style="bold green")
    text = f"{n} difference{'s' if n != 1 else ''}: the load balancer is not what the cloud provider would configure."
    if d.reconcile_failing:
        text += "\nThe provider's reconcile is failing: fix the annotation first."
    return Text(text, style="bold red")
