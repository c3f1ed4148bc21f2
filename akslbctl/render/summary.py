"""``explain -A`` / ``-l``: one row per LoadBalancer Service — the first look over a whole cluster.

Columns: where the Service is, its traffic policy, how many rules, how many pool members the LB
treats as up on every rule and as down on some rule, and the most severe finding (the one to read
first; ``explain svc/NAME`` tells the rest). At 80 columns the wide columns go first; names are never
cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from akslbctl.errors import ExitCode
from akslbctl.model.report import DOWN, ERROR, INFO, UP, WARNING, Diagnosis

_RANK = {ERROR: 3, WARNING: 2, INFO: 1}


@dataclass(frozen=True)
class ServiceRow:
    namespace: str
    name: str
    policy: str
    rules: int
    pool: int  # nodes in the backend pool of any rule
    up: int | None  # pool members up on every rule (None: not probed)
    down: int | None  # pool members down on at least one rule
    worst: str | None  # code of the most severe finding
    severity: str | None
    address: str  # the ingress IPs
    load_balancer: str | None
    exit_code: int


def summary_row(d: Diagnosis) -> ServiceRow:
    pool = {n.node for r in d.rules for n in r.nodes if n.in_pool}
    known = any(r.known for r in d.rules)
    up = down = None
    if known:
        up_sets = [{n.node for n in r.nodes if n.verdict == UP} for r in d.rules]
        up = len(set.intersection(pool, *up_sets)) if up_sets else 0
        down = len({n.node for r in d.rules for n in r.nodes if n.verdict == DOWN})
    worst = max(d.findings, key=lambda f: _RANK.get(f.severity, 0), default=None)
    # Exit 3: no LB nor an event that explains it, or no verdict at all (§5.1, §5.2).
    code = ExitCode.NO_EVIDENCE if d.no_evidence else ExitCode.OK if d.healthy else ExitCode.PROBLEM
    return ServiceRow(
        namespace=d.service.namespace,
        name=d.service.name,
        policy=d.service.external_traffic_policy,
        rules=len(d.rules),
        pool=len(pool),
        up=up,
        down=down,
        worst=worst.code if worst else ("lb-not-found" if d.load_balancer is None else None),
        severity=worst.severity if worst else (ERROR if d.load_balancer is None else None),
        address=", ".join(d.service.ingress_ips) or "<pending>",
        load_balancer=d.load_balancer.name if d.load_balancer else None,
        exit_code=int(code),
    )


def render_summary(rows: Sequence[ServiceRow], console, *, wide: bool = False) -> None:
    from rich.text import Text

    width = max(console.width or 80, 40)
    columns = ["NAMESPACE", "NAME", "POLICY", "RULES", "POOL", "UP", "DOWN", "WORST FINDING"]
    extra = ["ADDRESS", "LB"] if wide else []
    cells = [_cells(r) for r in rows]
    extra_cells = [[r.address, r.load_balancer or "-"] for r in rows]

    def widths(names: list[str], values: list[list[str]]) -> list[int]:
        return [max([len(n), *(len(v[i]) for v in values)]) for i, n in enumerate(names)]

    base_w = widths(columns, cells)
    extra_w = widths(extra, extra_cells)
    # Drop the wide columns (LB first) until the row fits; the base columns always stay.
    while extra and sum(base_w) + sum(extra_w) + 2 * (len(columns) + len(extra) - 1) > width:
        extra.pop()
        extra_w.pop()
    names = columns[:-1] + extra + columns[-1:]
    w = base_w[:-1] + extra_w + base_w[-1:]
    lines = [Text("  ".join(n.ljust(x) for n, x in zip(names, w, strict=True)).rstrip(), style="bold")]
    for row, base, more in zip(rows, cells, extra_cells, strict=True):
        values = base[:-1] + more[: len(extra)] + base[-1:]
        line = Text()
        for i, (value, x) in enumerate(zip(values, w, strict=True)):
            style = _style(row) if i == len(values) - 1 else ""
            line.append(value if i == len(values) - 1 else value.ljust(x) + "  ", style=style)
        lines.append(line)
    console.print(Text("\n").join(lines), no_wrap=True, overflow="ignore", crop=False)
    console.print()
    console.print(_total(rows))


def _cells(r: ServiceRow) -> list[str]:
    def count(v: int | None) -> str:
        return "-" if v is None else str(v)

    return [r.namespace, r.name, r.policy, str(r.rules), str(r.pool), count(r.up), count(r.down), r.worst or "-"]


def _style(r: ServiceRow) -> str:
    return {ERROR: "bold red", WARNING: "yellow", INFO: "cyan"}.get(r.severity or "", "green")


def _total(rows: Sequence[ServiceRow]):
    from rich.text import Text

    n = len(rows)
    bad = sum(1 for r in rows if r.exit_code == ExitCode.PROBLEM)
    unknown = sum(1 for r in rows if r.exit_code == ExitCode.NO_EVIDENCE)
    noun = "LoadBalancer Service" + ("" if n == 1 else "s")
    if not bad and not unknown:
        return Text(f"{n} {noun}, nothing wrong.", style="bold green")
    parts = []
    if bad:
        parts.append(f"{bad} with something wrong")
    if unknown:
        parts.append(f"{unknown} without a verdict (no load balancer, or no evidence from here)")
    style = "bold red" if bad else "magenta"
    return Text(f"{n} {noun}, {', '.join(parts)}: explain svc/NAME -n NAMESPACE tells why.", style=style)
