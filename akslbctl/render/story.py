"""One story per screen: the findings in reading order, grouped, and the footer that agrees with them.

Every human view (``explain``'s table, ``explain -A``) tells its story from the same three pieces:

- :func:`ordered` — findings sorted by severity (error, warning, info), then by rule (the Service as a
  whole first, then the rules in the LB's order), identical findings about several nodes told once
  ("… on 3 nodes (aks-nodepool1-12345678-vmss000000–000002) …");
- :func:`tally` and :func:`severity_style` — what the footer says about the findings, in the colour of
  the worst one (red error, yellow warning; green when nothing is wrong);
- :func:`next_command` — the command to paste next.

Pure: plain data in, plain strings out. JSON and YAML documents keep every finding as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from akslbctl.model.report import ERROR, INFO, WARNING, Diagnosis, Finding
from akslbctl.records import record

RANK = {ERROR: 0, WARNING: 1, INFO: 2}
SEVERITY_STYLE = {ERROR: "bold red", WARNING: "yellow", INFO: "cyan"}
GOOD_STYLE = "bold green"

# What to run next, by the finding that leads the story: drift is diff's to show, a verdict that
# should change is worth watching while it is fixed.
DRIFT = frozenset({"stale-rule", "probe-mismatch", "rule-missing", "stale-probe", "node-not-in-pool"})
WATCH = frozenset({"no-healthy-backend", "endpoint-probe-disagreement", "azure-probe-disagreement", "nsg-blocks-probe"})


@record(frozen=True)
class Told:
    """One finding as a human view tells it: a single finding, or several that differ only in the node."""

    code: str
    severity: str
    message: str
    rule: str | None
    nodes: tuple[str, ...] = ()  # the nodes a grouped finding covers (empty: one finding, told as is)


def ordered(findings: Sequence[Finding], rules: Sequence[str] = ()) -> list[Told]:
    """Findings in reading order — severity, then rule — with the ones that differ only in their node
    told once for all those nodes. ``rules``: the rule names in the order the view shows the rules."""
    where = {name: i for i, name in enumerate(rules)}

    def key(f: Finding) -> tuple[int, int]:
        rule = -1 if f.rule is None else where.get(f.rule, len(where))
        return RANK.get(f.severity, len(RANK)), rule

    groups: dict[tuple, list[Finding]] = {}
    for f in sorted(findings, key=key):  # stable: equal keys keep the analysis' order
        shape = f.message.replace(f.node, "\0") if f.node and f.node in f.message else None
        k = (f.code, f.severity, f.rule, shape) if shape is not None else (id(f),)
        groups.setdefault(k, []).append(f)
    out = []
    for members in groups.values():
        first = members[0]
        if len(members) == 1:
            out.append(Told(first.code, first.severity, first.message, first.rule))
            continue
        nodes = tuple(sorted({f.node for f in members if f.node}, key=natural_key))
        text = first.message.replace(first.node or "", f"{len(nodes)} nodes ({node_ranges(nodes)})")
        out.append(Told(first.code, first.severity, text, first.rule, nodes))
    return out


def natural_key(name: str) -> tuple:
    """Node names in counter order: ``vmss000009`` before ``vmss00000a`` (base 36) before ``vmss000010``."""
    parts = _split(name)
    if parts is not None:
        return (0, parts[0], parts[3], parts[1], name)
    return (1, *(str(p).zfill(20) if p.isdigit() else p for p in re.split(r"(\d+)", name)))


_TAIL = re.compile(r"^(.*?)(\d+)$")
_VMSS = re.compile(r"^(.*vmss)([0-9a-z]{6})$")  # VMSS computer names: a base-36 instance suffix


def _split(name: str) -> tuple[str, int, int, int] | None:
    """``(stem, number, width, base)`` of a name that ends in a counter, else None."""
    m = _VMSS.match(name)
    if m is not None:
        return m.group(1), int(m.group(2), 36), 6, 36
    m = _TAIL.match(name)
    if m is not None:
        digits = m.group(2)  # zero-padded counters keep their width; plain ones (n9, n10) share a stem
        return m.group(1), int(digits), len(digits) if digits.startswith("0") and len(digits) > 1 else 0, 10
    return None


def _digits(n: int, width: int, base: int) -> str:
    if base == 10:
        return f"{n:0{width}d}"
    out = ""
    while n:
        n, d = divmod(n, base)
        out = "0123456789abcdefghijklmnopqrstuvwxyz"[d] + out
    return out.rjust(width, "0")


def node_ranges(names: Sequence[str], limit: int = 6) -> str:
    """``aks-np-vmss000000``, ``…01``, ``…02``, ``…05`` → ``aks-np-vmss000000–000002, 000005``.

    Names that share a stem and end in a counter of one width (decimal, or the base-36 instance suffix
    of VMSS computer names) fold into runs; the stem is written once per stem. Past ``limit`` pieces
    the rest is counted (``… and 12 more``).
    """
    by_stem: dict[tuple[str, int, int], list[int]] = {}
    plain: list[str] = []
    for name in names:
        parts = _split(name)
        if parts is None:
            plain.append(name)
        else:
            by_stem.setdefault(parts[0:1] + parts[2:], []).append(parts[1])
    pieces: list[str] = []
    for (stem, width, base), numbers in by_stem.items():
        runs: list[list[int]] = []
        for n in sorted(set(numbers)):
            if runs and n == runs[-1][1] + 1:
                runs[-1][1] = n
            else:
                runs.append([n, n])
        for i, (a, b) in enumerate(runs):
            head = (stem if i == 0 else "") + _digits(a, width, base)
            pieces.append(head if a == b else f"{head}–{_digits(b, width, base)}")
    pieces += plain
    if len(pieces) > limit:
        return ", ".join(pieces[:limit]) + f" … and {len(pieces) - limit} more"
    return ", ".join(pieces)


def worst(findings: Sequence[Finding], rules: Sequence[str] = ()) -> Finding | None:
    """The finding to read first: the most severe, then the first by rule."""
    where = {name: i for i, name in enumerate(rules)}
    return min(
        findings,
        key=lambda f: (RANK.get(f.severity, len(RANK)), -1 if f.rule is None else where.get(f.rule, len(where))),
        default=None,
    )


def severity_style(findings: Sequence[Finding]) -> str:
    """The footer's colour: the worst finding's; green when no finding says something is wrong."""
    w = worst(findings)
    if w is None or w.severity not in (ERROR, WARNING):
        return GOOD_STYLE
    return SEVERITY_STYLE[w.severity]


def tally(findings: Sequence[Finding], rules: Sequence[str] = ()) -> str:
    """``2 errors (no-healthy-backend, nsg-blocks-clients), 1 warning (stale-rule)``; "" without findings.

    Counts what the Findings section shows (grouped findings count once), codes in reading order.
    """
    told = ordered(findings, rules)
    parts = []
    for severity, noun in ((ERROR, "error"), (WARNING, "warning"), (INFO, "note")):
        these = [t for t in told if t.severity == severity]
        if not these:
            continue
        codes = list(dict.fromkeys(t.code for t in these))
        shown = ", ".join(codes[:3]) + (", …" if len(codes) > 3 else "")
        parts.append(f"{len(these)} {noun}{'' if len(these) == 1 else 's'} ({shown})")
    return ", ".join(parts)


def service_arg(d: Diagnosis) -> str:
    return f"svc/{d.service.name} -n {d.service.namespace}"


def next_command(d: Diagnosis, prog: str = "akslbctl", case_file: str | None = None) -> str | None:
    """The command that takes the story on from the finding that leads it, or None.

    ``case_file``: the diagnosis came from ``explain -f`` — offline, the next step reads the same file
    (``diff -f``), and there is nothing to watch."""
    import shlex

    for t in ordered(d.findings, [r.name for r in d.rules]):
        if t.severity not in (ERROR, WARNING):
            break
        if t.code in DRIFT:
            return f"{prog} diff " + (f"-f {shlex.quote(case_file)}" if case_file else service_arg(d))
        if t.code in WATCH and not case_file:
            return f"{prog} probe {service_arg(d)} --watch"
    return None
