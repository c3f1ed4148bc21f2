"""Every fault and bad input of the catalogue, survived as documented.

Each entry runs the real CLI: in-process through ``support.cli`` where it can, as a subprocess where
time (a hang to kill), peak memory or a signal needs a process (those run a few at a time in one
fixture, so their waits overlap). Surviving means: the documented exit code, the node's verdict and
reason, exactly one ``error: …`` line on stderr for errors (and nothing on stderr otherwise), no
traceback, no secret in any output or file written, no hang, and the memory bound. How long each entry
takes is a figure (``benchmarks/fault_figures.py``), not a test: the suite runs on loaded machines.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from faults.catalogue import CATALOGUE, CLASSES, MAX_RSS_MB, Fault, judge, run

PROCESS = [f for f in CATALOGUE if f.process or f.interrupt is not None or f.stdout_closed]
IN_PROCESS = [f for f in CATALOGUE if f not in PROCESS]

# Every fault the issue names, and the further ones the task lists, by catalogue id.
REQUIRED = {
    # Kubernetes API: 500s, hangs, resets
    "kube-500-service",
    "kube-500-nodes",
    "kube-hang-service",
    "kube-hang-nodes",
    "kube-reset-service",
    # ARM: 401, 403, 404, 429 with Retry-After (honoured, bounded), 500s; rule health that never completes
    "arm-401",
    "arm-403",
    "arm-404-resource-group",
    "arm-429-once",
    "arm-429-retry-after-hour",
    "arm-500-always",
    "rule-health-never-completes",
    # node endpoints
    "node-hang",
    "node-reset-mid-answer",
    "node-drip",
    "node-10mb-body",
    "node-invalid-json",
    "node-non-utf8-json",
    "node-http09",
    "node-broken-tls",
    # further faults and bad inputs
    "kube-closed-port",
    "kube-wrong-ca",
    "kube-not-json",
    "kube-json-list",
    "service-ports-string",
    "arm-lb-probes-object",
    "rule-dangling-probe",
    "pool-foreign-members",
    "node-without-internal-ip",
    "duplicate-nodes",
    "case-empty",
    "case-nul-bytes",
    "case-deep-nesting",
    "case-sparse-1gb",
    # Ctrl-C during API calls, probing, --watch, completion, capture
    "interrupt-kube-hang",
    "interrupt-probe-round",
    "interrupt-watch",
    "interrupt-complete",
    "interrupt-capture",
    # bounded reads (issue 13 §11): decompressed size, depth, value count, cut-short bodies, both APIs
    "kube-gzip-bomb-nodes",
    "kube-deflate-bomb-slices",
    "kube-plain-80mb",
    "kube-deep-json",
    "kube-three-million-values",
    "kube-cut-short",
    "arm-gzip-bomb-lbs",
    "arm-deep-json",
    "arm-cut-short",
    # lists that never end (issue 13 §12)
    "kube-endless-continue-empty",
    "kube-endless-continue-full",
    "arm-endless-next-links",
    "arm-endless-next-links-full",
    # kubeconfig files that would block or grow (issue 13 §14)
    "complete-kubeconfig-fifo",
    "complete-kubeconfig-dev-zero",
    "complete-kubeconfig-huge",
    "kubeconfig-fifo",
    "kubeconfig-dev-zero",
    "kubeconfig-huge",
    "kubeconfig-list-huge",
    "kubeconfig-folder",
    # --svg and capture -f bounded by --deadline (issue 13 §6)
    "svg-fifo-stalled-reader",
    "capture-fifo-stalled-reader",
    "kubeconfig-token-file-dev-zero",
    "kubeconfig-ca-fifo",
    "complete-services-token-file-fifo",
    "arm-500-gzip-bomb-body",
    "rule-health-gzip-bomb",
    # each failure says what it is (issue 13 §15)
    "kube-307-nodes",
    "arm-302-foreign",
    "kube-429-apf-once",
    "kube-429-http-date",
    "arm-429-http-date",
    "kube-token-file-newline",
    "kube-port-arabic-digits",
    "arm-claims-not-base64",
    "kube-token-trailing-cr",
    "kube-insecure-skip-tls-verify",
    "kube-tls-expired",
    "kube-tls-wrong-name",
    "columns-abc",
    "columns-negative",
    "lab-run-typo",
}


def _ids(faults: list[Fault]) -> list[str]:
    return [f.id for f in faults]


def test_the_catalogue_has_at_least_50_distinct_entries():
    ids = [f.id for f in CATALOGUE]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 50
    # distinct faults, not the same one under two names
    assert len({(f.via, f.what) for f in CATALOGUE}) == len(ids)


def test_the_catalogue_holds_every_fault_the_issue_names():
    assert REQUIRED - {f.id for f in CATALOGUE} == set()


def test_every_class_names_entries_of_the_catalogue():
    ids = {f.id for f in CATALOGUE}
    for name, members in CLASSES.items():
        assert members and set(members) <= ids, (name, set(members) - ids)


def test_every_entry_says_how_it_fails():
    for f in CATALOGUE:
        assert f.exit in (0, 1, 2, 3, 129, 130, 143), f.id
        if f.exit in (2, 3):
            assert f.says, f"{f.id}: an error entry names a substring of its one line"
        assert f.verdict is None or f.argv[:1] == ("explain",) and "json" in f.argv, f.id


@pytest.mark.parametrize("fault", IN_PROCESS, ids=_ids(IN_PROCESS))
def test_survived_in_process(fault: Fault, tmp_path):
    ctx, out = run(fault, tmp_path / "run", process=False)
    problems = judge(fault, ctx, out)
    assert problems == [], f"{fault.id}: {problems}\nstderr: {out.stderr[-600:]}"


@pytest.fixture(scope="module")
def process_runs(tmp_path_factory):
    """Every process entry, four at a time: most of their time is spent waiting on a hang or a timeout."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {f.id: pool.submit(run, f, tmp_path_factory.mktemp(f.id), process=True) for f in PROCESS}
        return {fid: fut.result() for fid, fut in futures.items()}


@pytest.mark.parametrize("fault", PROCESS, ids=_ids(PROCESS))
def test_survived_as_a_process(fault: Fault, process_runs):
    ctx, out = process_runs[fault.id]
    problems = judge(fault, ctx, out)
    assert problems == [], f"{fault.id}: {problems}\nstderr: {out.stderr[-600:]}"
    assert out.peak_rss_kb is not None and out.peak_rss_kb < MAX_RSS_MB * 1024


def test_only_the_deadline_ends_a_dripping_api(process_runs):
    """Each byte arrives within the 1 s request timeout, so no read ever times out: the 3 s deadline
    ends the run — not before it (a deadline cannot end early), and not never (the run was not killed
    as a hang: the answer drips on for as long as the lab runs)."""
    _, out = process_runs["kube-drip"]
    assert out.exit == 3 and "within the 3 s deadline" in out.stderr
    assert out.seconds > 2.9 and not out.killed


def test_retry_after_is_honoured_up_to_its_bound(process_runs):
    """Retry-After: 3600 is not waited for (the bound is 10 s): the run ends at once, saying so — no
    request that ARM throttled was sent again (a retry is what a wait would have been for)."""
    ctx, out = process_runs["arm-429-retry-after-hour"]
    assert out.exit == 3 and "ARM asks to wait 3600 s" in out.stderr and not out.killed
    assert ctx.lab is not None
    throttled = [(r.method, r.path, r.query) for r in ctx.lab.requests if r.api == "arm" and r.status == 429]
    assert throttled and len(throttled) == len(set(throttled)), throttled
