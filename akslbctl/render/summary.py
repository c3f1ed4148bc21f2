"""``explain -A`` / ``-l``: one row per LoadBalancer Service — the first look over a whole cluster.

Columns: where the Service is, its traffic policy, how many rules, how many pool members the LB
treats as up on every rule and as down on some rule, and the most severe finding (the one to read
first; ``explain svc/NAME`` tells the rest). At 80 columns the wide columns go first; names are never
cut.
"""

from __future__ import annotations

from collections.abc import Sequence

from akslbctl.errors import ExitCode
from akslbctl.model.report import DOWN, ERROR, UP, WARNING, Diagnosis
from akslbctl.records import record
from akslbctl.render.story import SEVERITY_STYLE, service_arg, worst

# How a Service stands, by its worst finding: the footer counts Services in these, in this order
# (the first is the worst), and names the command for the worst Service.
DARK, NOT_BUILT, NO_LB, ERRORS, NO_VERDICT, WARNINGS, HEALTHY = (
    "dark",
    "not built",
    "without a load balancer",
    "with errors",
    "without a verdict",
    "with warnings",
    "healthy",
)
STANDINGS = (DARK, NOT_BUILT, NO_LB, ERRORS, NO_VERDICT, WARNINGS, HEALTHY)
STANDING_STYLE = {
    DARK: "bold red",
    NOT_BUILT: "bold red",
    NO_LB: "bold red",
    ERRORS: "bold red",
    NO_VERDICT: "magenta",
    WARNINGS: "yellow",
    HEALTHY: "bold green",
}


@record(frozen=True)
class ServiceRow:
    namespace: str
    name: str
    policy: str
    rules: int  # the rules that serve the Service (leftovers are drift: not counted)
    pool: int  # nodes in the backend pool of any rule
    up: int | None  # pool members up on every rule (None: not probed)
    down: int | None  # pool members down on at least one rule
    worst: str | None  # code of the most severe finding
    severity: str | None
    address: str  # the ingress IPs
    load_balancer: str | None
    exit_code: int
    standing: str = HEALTHY  # one of STANDINGS
    target: str = ""  # svc/NAME -n NAMESPACE


def standing(d: Diagnosis) -> str:
    """Where the Service stands, from its worst finding (the footer counts these)."""
    if d.load_balancer is None:
        return NOT_BUILT if d.provisioning_failed else NO_LB
    if any(r.known and r.up == 0 for r in d.serving_rules) or any(
        f.code in ("no-healthy-backend", "pool-without-nodes") for f in d.findings
    ):
        return DARK
    if d.has_error:
        return ERRORS
    if d.no_evidence:
        return NO_VERDICT
    if any(f.severity == WARNING for f in d.findings):
        return WARNINGS
    return HEALTHY


def summary_row(d: Diagnosis) -> ServiceRow:
    rules = d.serving_rules
    pool = {n.node for r in rules for n in r.nodes if n.in_pool}
    known = any(r.known for r in rules)
    up = down = None
    if known:
        up_sets = [{n.node for n in r.nodes if n.verdict == UP} for r in rules]
        up = len(set.intersection(pool, *up_sets)) if up_sets else 0
        down = len({n.node for r in rules for n in r.nodes if n.verdict == DOWN})
    first = worst(d.findings, [r.name for r in d.rules])
    # Exit 3: no LB nor an event that explains it, or no verdict at all (§5.1, §5.2).
    code = ExitCode.NO_EVIDENCE if d.no_evidence else ExitCode.OK if d.healthy else ExitCode.PROBLEM
    return ServiceRow(
        namespace=d.service.namespace,
        name=d.service.name,
        policy=d.service.external_traffic_policy,
        rules=len(rules),
        pool=len(pool),
        up=up,
        down=down,
        worst=first.code if first else ("lb-not-found" if d.load_balancer is None else None),
        severity=first.severity if first else (ERROR if d.load_balancer is None else None),
        address=", ".join(d.service.ingress_ips) or "<pending>",
        load_balancer=d.load_balancer.name if d.load_balancer else None,
        exit_code=int(code),
        standing=standing(d),
        target=service_arg(d),
    )


def render_summary(rows: Sequence[ServiceRow], console, *, wide: bool = False, prog: str = "akslbctl") -> None:
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
    console.print(total_line(rows, prog))


def _cells(r: ServiceRow) -> list[str]:
    def count(v: int | None) -> str:
        return "-" if v is None else str(v)

    return [r.namespace, r.name, r.policy, str(r.rules), str(r.pool), count(r.up), count(r.down), r.worst or "-"]


def _style(r: ServiceRow) -> str:
    if r.worst is None or r.severity not in (ERROR, WARNING):
        return "green" if r.worst is None else SEVERITY_STYLE.get(r.severity or "", "")
    return SEVERITY_STYLE[r.severity]


def total_line(rows: Sequence[ServiceRow], prog: str = "akslbctl"):
    """``2 LoadBalancer Services: 1 dark, 1 with warnings.`` — Services counted by their worst finding,
    in the colour of the worst, then the command that explains the worst Service."""
    from rich.text import Text

    n = len(rows)
    noun = "LoadBalancer Service" + ("" if n == 1 else "s")
    counts = {s: sum(1 for r in rows if r.standing == s) for s in STANDINGS}
    if counts[HEALTHY] == n:
        # Notes (info findings) say nothing is wrong, but a row names them: say so beside "nothing wrong".
        noted = sum(1 for r in rows if r.worst is not None)
        aside = f" ({noted} with notes)" if noted else ""
        return Text(f"{n} {noun}, nothing wrong{aside}.", style=STANDING_STYLE[HEALTHY])
    parts = [f"{counts[s]} {s}" for s in STANDINGS if counts[s]]
    first = min(rows, key=lambda r: STANDINGS.index(r.standing))
    text = Text(f"{n} {noun}: {', '.join(parts)}.", style=STANDING_STYLE[first.standing])
    text.append("\nNext: ", style="bold")
    text.append(f"{prog} explain {first.target}")
    return text
