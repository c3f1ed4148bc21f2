"""Command lines akslbctl reads itself, without loading typer.

typer (with the pydantic it builds its parameters with) costs more to import than everything an
offline ``explain -f`` does. For the commands a user types most (:data:`akslbctl.cli.specgen.FAST_COMMANDS`)
the command line is read here from the table generated out of the typer application
(``akslbctl.cli._spec.PARSE``), and the command function is called with exactly the arguments typer
would pass it.

Only plain, valid command lines take this path: anything this reader does not take for certain — an
unknown option, a missing or invalid value, ``--help``, ``--``, a flag given a value, grouped short
flags — goes to typer, which reads it, or says what is wrong, as it always has. So this module never
makes an error message of its own, and the two paths cannot disagree (tests compare them).
"""

from __future__ import annotations

from collections.abc import Callable

from akslbctl.cli.guard import guarded, kubectl_style


def run(argv: list[str], prog: str = "akslbctl", terminal=None) -> int:
    """Run one command line; returns the exit code. Typer reads whatever :func:`parse` leaves."""
    call = parse(argv)
    if call is None:
        from akslbctl.cli.app import run_cli

        return run_cli(argv, prog, terminal)
    return guarded(call, prog, terminal)


def parse(argv: list[str]) -> Callable[[], object] | None:
    """The command call of ``argv``, or None when typer should read it."""
    kwargs = arguments(argv)
    if kwargs is None:
        return None
    import importlib

    from akslbctl.cli._spec import PARSE

    module, function, _ = PARSE[argv[0]]
    command = getattr(importlib.import_module(module), function)
    return lambda: command(**kwargs)


def arguments(argv: list[str]) -> dict[str, object] | None:
    """The keyword arguments typer would call the command of ``argv`` with, or None (typer reads it)."""
    from akslbctl.cli._spec import PARSE

    if not argv or argv[0] not in PARSE:
        return None
    _, _, params = PARSE[argv[0]]
    values: dict[str, object] = {name: default for name, _, _, default in params}
    by_option = {option: (name, kind) for name, options, kind, _ in params for option in options}
    variadic = next((name for name, _, kind, _ in params if kind == "args"), None)
    positional: list[str] = []
    words = kubectl_style(argv[1:])
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "-" or not word.startswith("-"):
            positional.append(word)
            continue
        if word.startswith("--"):
            option, equals, attached = word.partition("=")
        elif len(word) > 2:
            option, equals, attached = word[:2], "", word[2:]  # -ojson: a short option with its value
        else:
            option, equals, attached = word, "", ""
        found = by_option.get(option)
        if found is None:
            return None  # --help, --, unknown options, grouped short flags: typer's to read or refuse
        name, kind = found
        if kind == "flag":
            if equals or attached:
                return None
            values[name] = True
            continue
        if equals or attached:
            text = attached
        elif i < len(words):
            text, i = words[i], i + 1
        else:
            return None  # the value is missing
        converted = _convert(kind, text)
        if converted is None:
            return None
        values[name] = converted
    if positional:
        if variadic is None:
            return None
        values[variadic] = positional
    return values


def _convert(kind: str, text: str) -> object | None:
    """``text`` as typer would pass it for ``kind``; None when typer should judge it."""
    if kind == "str":
        return text
    if kind.startswith("int:"):
        if not (text.isascii() and text.isdigit()):
            return None
        value = int(text)
        return value if value >= int(kind[4:]) else None
    if kind.startswith("duration:"):
        from akslbctl.cli.durations import Duration

        try:
            return Duration(float(kind[9:])).seconds(text)
        except ValueError:
            return None
    return None
