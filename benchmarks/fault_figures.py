"""The fault catalogue as figures: every entry run as its own ``akslbctl`` process, judged, timed and
weighed.

Each entry of ``tests/faults/catalogue.py`` starts its lab (Kubernetes API, ARM and node listeners on
loopback, with the entry's fault injected) in this process and runs ``python -m akslbctl …`` against
it. Wall time is the child's, from start to exit (interpreter start included); peak memory is the
child's maximum resident set size (``os.wait4``'s rusage). "Survived" is the test suite's own judgement
(``catalogue.judge``): the documented exit code and verdict, one error line, no traceback, no secret
in any output or file, no hang (killed at ``catalogue.hang_limit``) and the memory bound.

Time is a figure here, not a judgement: each entry has a nominal bound (what it takes at most on an
idle machine) and the summary names the entries that went over it — on a loaded machine expect some.

    python benchmarks/fault_figures.py                  # every entry, one at a time
    python benchmarks/fault_figures.py --only node- arm-429
    python benchmarks/fault_figures.py --markdown       # the table for docs/robustness.md
    python benchmarks/fault_figures.py --class §11 §12  # the entries of issue 13's classes
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from faults.catalogue import CATALOGUE, CLASSES, MAX_RSS_MB, Fault, judge, node_verdict, over_bound, run  # noqa: E402


def got(fault: Fault, out) -> str:
    text = f"exit {out.exit}"
    if fault.verdict is not None:
        text += f", {node_verdict(out.stdout) or '-'}"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="entries whose id starts with one of these")
    parser.add_argument("--class", dest="classes", nargs="*", default=[], help="entries of these classes (§11 …)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    picked = {m for name, members in CLASSES.items() if any(name.startswith(c) for c in args.classes) for m in members}
    faults = [
        f
        for f in CATALOGUE
        if (not args.only and not args.classes) or any(f.id.startswith(p) for p in args.only) or f.id in picked
    ]
    rows = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="akslbctl-faults-") as tmp:
        for i, fault in enumerate(faults, 1):
            ctx, out = run(fault, Path(tmp) / fault.id, process=True)
            problems = judge(fault, ctx, out)
            rows.append((fault, out, problems))
            mark = "ok" if not problems else "FAILED: " + "; ".join(problems)
            sys.stderr.write(f"[{i}/{len(faults)}] {fault.id}: {mark}\n")
    total = time.monotonic() - started

    header = ("fault", "via", "expected", "got", "survived", "exit", "time s", "bound s", "peak MB")
    table = [
        (
            f.id,
            f.via,
            f.expected,
            got(f, out),
            "yes" if not problems else "NO",
            str(out.exit),
            f"{out.seconds:.2f}" + (" >" if over_bound(f, out) else ""),
            f"{f.bound:g}",
            f"{(out.peak_rss_kb or 0) / 1024:.0f}",
        )
        for f, out, problems in rows
    ]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        for row in table:
            print("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        for row in table:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    survived = sum(1 for _, _, problems in rows if not problems)
    slowest = max(rows, key=lambda r: r[1].seconds)
    heaviest = max(rows, key=lambda r: r[1].peak_rss_kb or 0)
    by_code: dict[int, int] = {}
    for _, out, _ in rows:
        by_code[out.exit] = by_code.get(out.exit, 0) + 1
    codes = ", ".join(f"{code}: {n}" for code, n in sorted(by_code.items()))
    print()
    print(
        f"tried {len(rows)}, survived {survived}; exit codes {codes}; "
        f"worst time {slowest[1].seconds:.2f} s ({slowest[0].id}); "
        f"worst memory {(heaviest[1].peak_rss_kb or 0) / 1024:.0f} MB ({heaviest[0].id}, bound {MAX_RSS_MB} MB); "
        f"{total:.0f} s in all"
    )
    # The classes of issue 13 (catalogue.CLASSES): how many of each ran here, and survived.
    ran = {f.id: not problems for f, _, problems in rows}
    for name, members in CLASSES.items():
        here = [m for m in members if m in ran]
        if here:
            failed = [m for m in here if not ran[m]]
            print(
                f"{name}: {sum(ran[m] for m in here)} of {len(here)} survived"
                + (f" (failed: {', '.join(failed)})" if failed else "")
            )
    over = [(f, out) for f, out, _ in rows if over_bound(f, out)]
    listed = ", ".join(f"{f.id} {out.seconds:.1f} s (bound {f.bound:g} s)" for f, out in over)
    print(f"over their nominal bound: {len(over)} of {len(rows)}" + (f": {listed}" if over else ""))
    return 0 if survived == len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
