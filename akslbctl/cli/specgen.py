"""Generated files that follow the command line: the completion spec and the command reference.

Shell completion runs akslbctl at every TAB, and importing typer there costs more than the whole
budget of a TAB. So the shape of the command line — commands, options, which options take a value
and how that value completes, positional arguments — is read from the Typer app once, here, and
written as plain Python literals into ``akslbctl/cli/_spec.py``, which :mod:`akslbctl.cli.complete`
imports in microseconds. ``docs/reference.md`` is generated from the same app, so the help text,
the reference and the completion never disagree.

Nothing here is imported at run time: ``python scripts/regen.py`` calls it, and tests compare the
committed files with a fresh generation (a flag added anywhere only needs a re-run).
"""

from __future__ import annotations

import re
import typing
from enum import Enum
from typing import Any

# How an option's value completes, by the option's long name: any command that declares one of these
# options completes it the same way with no edit here. Options not named take a value with no
# candidates (numbers, ids, selectors).
VALUE_KINDS = {
    "--namespace": "namespace",  # namespaces from the API
    "--context": "context",  # contexts from the kubeconfig file(s), no API call
    "--kubeconfig": "file",
    "--filename": "file",
    "--svg": "file:svg",  # files, filtered to *.svg
    "--png": "file:png",
}

# What each output format is, for the descriptions next to the candidates.
OUTPUT_HELP = {
    "table": "table for people (default)",
    "wide": "table with addresses, expectations and latencies",
    "json": "versioned JSON document",
    "yaml": "versioned YAML document",
    "name": "service/NAME per line",
    "text": "one line (default)",
}
OUTPUT_HELP_BY_COMMAND = {("probe", "json"): "JSON Lines: one ProbeRound document per round"}

# Positional arguments, by parameter name.
ARG_KINDS = {
    "resource": "service",  # svc/NAME of LoadBalancer Services
    "command": "command",  # a whole akslbctl command line (lab run SCENARIO -- COMMAND…)
}


def _output_values() -> dict[str, tuple[str, ...]]:
    """``-o`` values per command: the commands validate a plain string against these constants."""
    from akslbctl.cli import common, diff, probe, version

    return {
        "explain": tuple(common.OUTPUTS),
        "diff": tuple(diff.OUTPUTS),
        "probe": tuple(probe.PROBE_OUTPUTS),
        "version": tuple(version.VERSION_OUTPUTS),
    }


def _scenarios() -> tuple[tuple[str, str], ...]:
    from akslbctl.lab.scenarios import SCENARIOS

    return tuple((name, _first_sentence(s.description, 70)) for name, s in SCENARIOS.items())


def _shells() -> tuple[tuple[str, str], ...]:
    from akslbctl.cli.shells import SHELLS

    return tuple((name, f"print the {name} completion script") for name in SHELLS)


def root_command():
    """The click command tree behind the Typer app."""
    import typer

    from akslbctl.cli.app import app

    return typer.main.get_command(app)


def _first_sentence(text: str | None, limit: int = 80) -> str:
    """The first sentence ("e.g." does not end one), without its full stop, cut at ``limit``."""
    text = " ".join((text or "").split())
    end = re.search(r"(?<!e\.g)(?<!i\.e)[.?!](\s|$)", text)
    if end:
        text = text[: end.start() + (0 if text[end.start()] == "." else 1)]
    return _one_line(text, limit)


def _one_line(text: str | None, limit: int = 80) -> str:
    text = " ".join((text or "").split()).rstrip(".")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _choices(param) -> tuple[str, ...] | None:
    """Values of an Enum or Literal annotation, when a command declares one."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return tuple(str(m.value) for m in annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    return None


def _walk(command, path: str = "", parent=None):
    """``(path, command, context)`` for the program and every visible subcommand, depth first.

    Contexts chain as at run time, so settings such as ``-h`` for help reach the subcommands.
    """
    import typer

    name = path.split(" ")[-1] if path else "akslbctl"
    ctx = typer.Context(command, info_name=name, parent=parent, **(command.context_settings or {}))
    yield path, command, ctx
    for sub_name, sub in getattr(command, "commands", {}).items():
        if not getattr(sub, "hidden", False):
            yield from _walk(sub, f"{path} {sub_name}".strip(), ctx)


def _option_value(path: str, param, outputs: dict[str, tuple[str, ...]]) -> Any:
    if param.is_flag or getattr(param, "count", False):
        return None
    long_names = [o for o in param.opts if o.startswith("--")]
    if "--output" in long_names:
        values = _choices(param) or outputs.get(path)
        if values is None:
            raise ValueError(f"'{path}' has --output but no known values: add them to specgen._output_values")
        return tuple((v, OUTPUT_HELP_BY_COMMAND.get((path, v)) or OUTPUT_HELP.get(v, "")) for v in values)
    choices = _choices(param)
    if choices:
        return tuple((c, "") for c in choices)
    for name in long_names:
        if name in VALUE_KINDS:
            return VALUE_KINDS[name]
    return ""


def _arg_kind(path: str, param) -> Any:
    if param.name in ARG_KINDS:
        return ARG_KINDS[param.name]
    if param.name == "scenario":
        return _scenarios()
    if path == "completion" and param.name == "shell":
        return _shells()
    choices = _choices(param)
    return tuple((c, "") for c in choices) if choices else ""


def build_spec(root=None) -> dict[str, dict[str, Any]]:
    """``{command path: {"help", "commands", "options", "args"}}``; ``""`` is the program itself.

    options: ``(names, value, repeatable, help)`` where value is None for a flag, ``""`` for a value
    without candidates, a kind (``namespace``, ``context``, ``file``, ``file:EXT``) or a tuple of
    ``(value, description)``. args: ``(name, kind, many)`` with kind ``service``, ``command``,
    ``""`` or a tuple of ``(value, description)``.
    """
    root = root if root is not None else root_command()
    outputs = _output_values()
    spec: dict[str, dict[str, Any]] = {}
    for path, command, ctx in _walk(root):
        options = []
        args = []
        params = list(command.params)
        help_option = command.get_help_option(ctx)
        if help_option is not None:
            params.append(help_option)
        for p in params:
            if getattr(p, "hidden", False):
                continue
            if getattr(p, "param_type_name", "") == "argument":
                args.append((p.name, _arg_kind(path, p), p.nargs == -1))
                continue
            names = tuple(sorted(p.opts, key=lambda o: (not o.startswith("--"), o))) + tuple(p.secondary_opts)
            options.append((names, _option_value(path, p, outputs), bool(p.multiple), _one_line(p.help, 90)))
        subcommands = tuple(
            name for name, sub in getattr(command, "commands", {}).items() if not getattr(sub, "hidden", False)
        )
        spec[path] = {
            "help": _first_sentence(command.help, 90),
            "commands": subcommands,
            "options": tuple(options),
            "args": tuple(args),
        }
    return spec


# The commands akslbctl.cli.fast runs without typer: one-shot commands a user types most, and scripts run.
FAST_COMMANDS = ("explain", "diff", "probe", "capture")


def _parse_kind(param) -> tuple[str, Any]:
    """How :mod:`akslbctl.cli.fast` reads the parameter, and its default as typer passes it."""
    from akslbctl.cli.durations import Duration

    if getattr(param, "param_type_name", "") == "argument":
        if param.nargs != -1:
            raise ValueError(f"argument {param.name}: only variadic arguments are parsed without typer")
        return "args", None
    if param.is_flag:
        if param.secondary_opts or param.default is not False:
            raise ValueError(f"flag {param.name}: only plain on-flags are parsed without typer")
        return "flag", False
    if param.multiple or param.nargs != 1 or getattr(param, "count", False):
        raise ValueError(f"option {param.name}: only single-value options are parsed without typer")
    info = param.type_descriptor.parameter_info
    annotation = param.type_descriptor.annotation
    parser = getattr(info, "parser", None)
    if isinstance(parser, Duration):
        default = None if param.default is None else parser.seconds(param.default)
        return f"duration:{parser.minimum!r}", default
    if parser is not None or getattr(info, "max", None) is not None or getattr(info, "clamp", False):
        raise ValueError(f"option {param.name}: its parser or range is not read without typer: add it to cli.fast")
    if annotation is int and getattr(info, "min", None) is not None and not getattr(info, "min_open", False):
        return f"int:{info.min}", param.default
    if annotation is str:
        return "str", param.default
    raise ValueError(f"option {param.name}: {annotation} is not parsed without typer: add it to akslbctl.cli.fast")


def build_parse(root=None) -> dict[str, tuple[str, str, tuple]]:
    """``{command: (module, function, ((name, option names, kind, default), ...))}`` for FAST_COMMANDS."""
    root = root if root is not None else root_command()
    out = {}
    for name in FAST_COMMANDS:
        command = root.commands[name]
        function = command.callback.__wrapped__  # the command function typer wraps
        params = []
        for p in command.params:
            kind, default = _parse_kind(p)
            params.append((p.name, () if kind == "args" else tuple(p.opts), kind, default))
        out[name] = (function.__module__, function.__name__, tuple(params))
    return out


SPEC_HEADER = '''"""The command line's shape for shell completion: commands, options, arguments.

Generated from the Typer app by ``python scripts/regen.py`` (akslbctl.cli.specgen); do not edit.
tests/unit/test_complete.py fails when it is stale. Plain literals: importing this is free.

Per command path ("" is the program): its subcommands; its options as (names, value, repeatable,
help) where value is None for a flag, "" for a value without candidates, a kind ("namespace",
"context", "file", "file:EXT") or ((value, description), ...); its arguments as (name, kind, many).

PARSE: how akslbctl.cli.fast reads the command lines of the commands it runs without typer — per
command its module, its function and its parameters as (name, option names, kind, default as typer
passes it), kind being "args", "flag", "str", "int:MIN" or "duration:MIN".
"""

# ruff: noqa: E501
# fmt: off
'''


def render_spec(spec: dict[str, dict[str, Any]] | None = None) -> str:
    """The spec as a Python module: one line per option, so a new flag is a one-line diff."""
    spec = spec if spec is not None else build_spec()
    out = [SPEC_HEADER, "COMMANDS = {"]
    for path, entry in spec.items():
        out.append(f"    {path!r}: {{")
        out.append(f"        'help': {entry['help']!r},")
        out.append(f"        'commands': {entry['commands']!r},")
        out.append("        'options': (")
        out.extend(f"            {option!r}," for option in entry["options"])
        out.append("        ),")
        out.append("        'args': (")
        out.extend(f"            {arg!r}," for arg in entry["args"])
        out.append("        ),")
        out.append("    },")
    out.append("}")
    out.append("")
    out.append("PARSE = {")
    for name, (module, function, params) in build_parse().items():
        out.append(f"    {name!r}: ({module!r}, {function!r}, (")
        out.extend(f"        {param!r}," for param in params)
        out.append("    )),")
    out.append("}")
    return "\n".join(out) + "\n"


# -- pre-rendered help (akslbctl/cli/_help.py) --------------------------------------------------------

HELP_WIDTH = 78  # what click lays help out in on any terminal of 80 columns or more
HELP_HEADER = '''"""``--help`` texts, pre-rendered from the Typer app by ``python scripts/regen.py``; do not edit.

``akslbctl [COMMAND] --help`` is answered from here before typer loads (≈ a bare Python start instead of
~90 ms), on terminals of 80 columns or more where typer would print exactly this text.
tests/unit/test_complete.py fails when it is stale.
"""

# ruff: noqa: E501
# fmt: off

'''


def render_help(root=None) -> str:
    """Each visible command path's ``--help`` as typer prints it at 80 columns or more."""
    root = root if root is not None else root_command()
    out = [HELP_HEADER, "HELP = {"]
    for path, command, ctx in _walk(root):
        ctx.terminal_width = HELP_WIDTH
        out.append(f"    {path!r}: {command.get_help(ctx)!r},")
    out.append("}")
    return "\n".join(out) + "\n"


# -- the command reference (docs/reference.md) -------------------------------------------------------

REFERENCE_HEADER = """# Command reference

Generated from the command line itself by `python scripts/regen.py`; do not edit (a test fails when
it is stale). The same text is in `akslbctl COMMAND --help`. Exit codes, JSON documents and reason codes
are in the [user guide](user-guide.md) and the [reasons](reasons/README.md).
"""


def render_reference(root=None) -> str:
    """Markdown: per command its usage, description, arguments and options, as ``--help`` shows them."""
    root = root if root is not None else root_command()
    out = [REFERENCE_HEADER]
    for path, command, ctx in _walk(root):
        title = f"akslbctl {path}".strip()
        out.append(f"\n## `{title}`\n")
        out.append(f"```\n{' '.join(command.get_usage(ctx).split())}\n```\n")
        if command.help:
            out.append(_paragraphs(command.help) + "\n")
        subcommands = [(n, c) for n, c in getattr(command, "commands", {}).items() if not getattr(c, "hidden", False)]
        if subcommands:
            out.append("| Command | What it does |\n|---|---|")
            for name, sub in subcommands:
                out.append(f"| [`{name}`](#{_anchor(f'{title} {name}')}) | {_cell(_first_sentence(sub.help, 200))} |")
            out.append("")
        rows: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
        params = list(command.params)
        help_option = command.get_help_option(ctx)
        if help_option is not None:
            params.append(help_option)
        for p in params:
            record = None if getattr(p, "hidden", False) else p.get_help_record(ctx)
            if record is not None:
                rows["Arguments" if getattr(p, "param_type_name", "") == "argument" else "Options"].append(record)
        for heading, records in rows.items():
            if records:
                out.append(f"{heading}:\n\n| | |\n|---|---|")
                out.extend(f"| `{left}` | {_cell(right)} |" for left, right in records)
                out.append("")
    return "\n".join(out).rstrip() + "\n"


def _paragraphs(text: str) -> str:
    blocks = [" ".join(b.split()) for b in text.strip().split("\n\n")]
    return "\n\n".join(b for b in blocks if b)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _anchor(title: str) -> str:
    return "".join(ch for ch in title.lower().replace(" ", "-") if ch.isalnum() or ch in "-_")
