"""What every command shares: the terminal a run writes to, the connection options, logging."""

from __future__ import annotations

import os
import sys
from dataclasses import field
from typing import TextIO

from akslbctl.errors import UsageError
from akslbctl.logs import quiet_root
from akslbctl.records import record

# -- terminal ----------------------------------------------------------------------------------


@record
class Terminal:
    """The streams a run writes to; injected so tests capture exactly what a user sees."""

    stdout: TextIO
    stderr: TextIO
    prog: str = "akslbctl"
    secrets: list[str] = field(default_factory=list)
    interrupt_told: bool = False  # "interrupted" is already on the screen (a child run said it)

    def isatty(self) -> bool:
        try:
            return self.stdout.isatty()
        except (AttributeError, ValueError):
            return False

    def console(self, *, stderr: bool = False):
        from rich.console import Console

        stream = self.stderr if stderr else self.stdout
        no_color = "NO_COLOR" in os.environ
        width = None
        if not self.isatty():
            width = output_width()
        # rich reads COLUMNS/LINES itself (on a terminal) and takes "٣" for 3: it sees them only when usable
        environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        if _columns() is not None:
            environ["COLUMNS"] = str(_columns())
        # markup off: a '[' in a name or a message is text, never a style (nor a MarkupError)
        return Console(
            file=stream,
            no_color=no_color,
            highlight=False,
            width=width,
            soft_wrap=False,
            emoji=False,
            markup=False,
            _environ=environ,
        )

    def printer(self):
        """Where a command's human output goes: a console that writes plain lines without importing
        rich's console when stdout can carry no colour (a pipe, a file), else :meth:`console`."""
        from akslbctl.render.plain import PlainConsole, colourless

        if not colourless(self.isatty()):
            return self.console()
        return PlainConsole(self.stdout, output_width(), self.console)

    def redact(self, text: str) -> str:
        from akslbctl.masking import mask

        return mask(text, self.secrets)

    def warn(self, message: str) -> None:
        from akslbctl.render.escape import escape

        self.stderr.write(escape(self.redact(f"warning: {' '.join(message.split())}")) + "\n")
        self.stderr.flush()

    def error(self, message: str) -> None:
        from akslbctl.render.escape import escape

        self.stderr.write(escape(self.redact(f"error: {' '.join(message.split())}")) + "\n")
        self.stderr.flush()


def _columns() -> int | None:
    """COLUMNS when it is a usable width (decimal, 1–10000); anything else (abc, -5, ٣) is ignored."""
    value = os.environ.get("COLUMNS", "").strip()
    if value.isascii() and value.isdigit() and 0 < int(value) <= 10000:
        return int(value)
    return None


UNWRAPPED = 1000  # the width of output with no terminal anywhere: lines as long as they are, as kubectl's


def output_width() -> int:
    """How wide output may be when stdout is not a terminal (``| less``, ``> file``, ``| grep``).

    COLUMNS when set; else the width of the terminal the user sits at — stderr's, stdin's or the
    controlling terminal's (``/dev/tty``) — so a piped table looks as it would on screen; with no
    terminal at all (CI, cron, a Job's log) lines are not wrapped (:data:`UNWRAPPED`).
    """
    return _columns() or controlling_terminal_width() or UNWRAPPED


def controlling_terminal_width() -> int | None:
    for fd in (2, 0):
        try:
            if os.isatty(fd):
                return os.get_terminal_size(fd).columns or None
        except OSError:
            continue
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return None
    try:
        return os.get_terminal_size(fd).columns or None
    except OSError:
        return None
    finally:
        os.close(fd)


_term = Terminal(sys.stdout, sys.stderr)


def term() -> Terminal:
    """The terminal of the run in progress."""
    return _term


def use_terminal(terminal: Terminal) -> Terminal:
    global _term
    from akslbctl import notices

    _term = terminal
    _kept.clear()
    notices.reset()
    notices.sink = terminal.warn
    return terminal


_kept: list[object] = []


def keep_until_exit(*objects: object) -> None:
    """Hold a one-shot command's evidence and results until the process ends (the next run in this
    process lets them go). A run leaves through ``os._exit`` (:func:`akslbctl.entry.finish`), which
    frees the memory at once; freed object by object when the command returns, the model and
    documents of a 1,000-node Service cost ~7 ms of reference counting after the output is written."""
    _kept.extend(objects)


OUTPUTS = ("table", "wide", "json", "yaml")


def output_format(value: str, allowed: tuple[str, ...] = OUTPUTS) -> str:
    if value not in allowed:
        raise UsageError(f"unknown output format {value!r}", hint=f"use one of {', '.join(allowed)}")
    return value


def write_document(doc, output: str) -> None:
    """A contract document (or a list of them) on stdout, as JSON or YAML."""
    from akslbctl.render.document import to_json, to_yaml

    term().stdout.write((to_json(doc) + "\n") if output == "json" else to_yaml(doc))
    keep_until_exit(doc)


def setup_logging(debug: bool) -> None:
    """--debug: akslbctl's messages on stderr, redacted and escaped. Without it nothing loads
    ``logging``: the modules that bring libraries which log keep the root logger quiet when they load
    (:mod:`akslbctl.logs`), and so does this when something has loaded it already."""
    if not debug:
        if "logging" in sys.modules:
            quiet_root()
        return
    import logging

    quiet_root()
    t = term()

    class _Redacting(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            from akslbctl.render.escape import escape

            record.msg = escape(t.redact(record.getMessage()))
            record.args = ()
            return True

    handler = logging.StreamHandler(t.stderr)
    handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
    handler.addFilter(_Redacting())
    root = logging.getLogger("akslbctl")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG)
    root.propagate = False


# -- evidence ----------------------------------------------------------------------------------


@record(frozen=True)
class Connection:
    """The connection options every command takes (contract §2)."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    subscription: str | None = None
    resource_group: str | None = None
    arm_endpoint: str | None = None
    request_timeout: float = 10.0


def load_case(
    resource: list[str] | None,
    conn: Connection,
    *,
    command: str,
    filename: str | None = None,
    deadline=None,
    on_partial=None,
):
    """The evidence for the one Service a command names, from the live cluster and ARM.

    With ``filename`` (``-f``), from a case file or a folder of raw dumps instead, offline: the case
    names its Service, so resource arguments are optional there, and must match when given.
    ``deadline`` (an :class:`akslbctl.deadline.Deadline`) bounds it all: requests wait at most what is
    left of it, and when it passes the command ends with exit 3 whatever a server is doing.
    ``on_partial``: see :func:`akslbctl.collect.collect` (live evidence only).
    """
    from akslbctl.cli.resource import check_namespace, parse_resources
    from akslbctl.deadline import run_within

    if filename is not None:
        from akslbctl.sources.casefile import Scope, load

        names = parse_resources(resource) if resource else []
        if len(names) > 1:
            raise UsageError(f"{command} takes one Service", hint="run it once per Service")
        scope = Scope(
            name=names[0] if names else None,
            namespace=check_namespace(conn.namespace),
            subscription=conn.subscription,
            resource_group=conn.resource_group,
        )
        return run_within(deadline, lambda: load(filename, scope), f"reading {filename}")
    live = prepare_live(resource, conn, command=command, deadline=deadline)
    return collect_live(live, deadline=deadline, on_partial=on_partial)


_COLLECTING = "collecting the evidence (Kubernetes API, ARM)"


class LiveRead:
    """A live read made ready (:func:`prepare_live`): the Service named, the options, and the
    Kubernetes source when the kubeconfig was loaded ahead (``kube``, else None)."""

    def __init__(self, command: str, target, kube_opts, arm_opts, kube=None) -> None:
        self.command = command
        self.target = target
        self.kube_opts = kube_opts
        self.arm_opts = arm_opts
        self.kube = kube


def prepare_live(resource: list[str] | None, conn: Connection, *, command: str, deadline=None, connect=False):
    """The Service a live command names and the options to read it with; ``connect``: the kubeconfig
    is loaded now, on this thread (within the deadline), so that a worker can be forked with it
    before the collection starts a thread."""
    from akslbctl.cli.resource import check_namespace, parse_resources
    from akslbctl.collect import Target
    from akslbctl.deadline import run_within
    from akslbctl.sources.arm import ArmOptions
    from akslbctl.sources.kube import KubeOptions

    names = parse_resources(resource or [])
    if len(names) != 1:
        raise UsageError(f"{command} takes one Service", hint="run it once per Service")
    kube_opts = KubeOptions(
        conn.kubeconfig, conn.context, check_namespace(conn.namespace), conn.request_timeout, deadline=deadline
    )
    arm_opts = ArmOptions(
        conn.subscription, conn.resource_group, conn.arm_endpoint, max(conn.request_timeout, 10.0), deadline=deadline
    )
    kube = None
    if connect:
        from akslbctl.collect import kube_secrets
        from akslbctl.sources.kube import KubeSource

        kube = run_within(deadline, lambda: KubeSource(kube_opts), _COLLECTING)
        term().secrets.extend(kube_secrets(kube))  # known now: a worker forked next redacts them too
    return LiveRead(command, Target(kube_opts.namespace, names[0]), kube_opts, arm_opts, kube)


def collect_live(live: LiveRead, *, deadline=None, on_partial=None, load_prober: bool = True, worker=None):
    """The evidence of a :class:`LiveRead`. ``on_partial``, ``load_prober``, ``worker``: see
    :func:`akslbctl.collect.collect`."""
    from akslbctl.collect import collect
    from akslbctl.deadline import run_within

    secrets = term().secrets
    return run_within(
        deadline,
        # Only capture writes the Nodes' documents out; for the others the model is all they need,
        # and the decoded documents are most of the run's memory (~100 MB at 5,000 nodes).
        lambda: collect(
            live.target,
            live.kube_opts,
            live.arm_opts,
            secrets=secrets,
            keep_node_documents=live.command == "capture",
            on_partial=on_partial,
            load_prober=load_prober,
            kube=live.kube,
            worker=worker,
        ),
        _COLLECTING,
    )
