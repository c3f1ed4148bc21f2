"""``akslbctl __complete``: shell completion, speaking cobra's protocol so kubectl can use it too.

Request: ``akslbctl __complete WORD… CURRENT`` — the words typed after the program, the last one
being the word under the cursor (empty after a space). ``__completeNoDesc`` asks for the same without
descriptions. Answer on stdout: one candidate per line, ``value<TAB>description``, then ``:DIRECTIVE``
where the directive is a bitmask (spf13/cobra ``completions.go``)::

    1 error: show nothing            8 the candidates are file extensions to filter on
    2 no space after the candidate   16 complete directory names only
    4 no file names if nothing fits  32 keep the order given

The exit status is 0 whatever happens, and nothing but the protocol ever reaches stdout: a problem
(an unreachable API server, a broken kubeconfig) is directive 1 with no candidates.

This runs at every TAB, so it is built to start fast: the command line's shape comes from the
generated literals in :mod:`akslbctl.cli._spec` (no typer, no click, no pydantic), and only candidates
that need the cluster import anything more (:mod:`akslbctl.cli.candidates`).
"""

from __future__ import annotations

import sys

ERROR, NO_SPACE, NO_FILE, FILTER_EXT, FILTER_DIRS, KEEP_ORDER = 1, 2, 4, 8, 16, 32
DEFAULT = 0

REQUESTS = ("__complete", "__completeNoDesc")
SERVICE_TYPES = ("svc", "service", "services")  # as akslbctl.cli.resource (not imported: start-up time)


class Line:
    """What the words before the cursor say: the command, its options and its positional arguments."""

    __slots__ = ("path", "spec", "options", "positionals", "pending", "after_dashes", "nested", "help")

    def __init__(self, path: str, spec: dict) -> None:
        self.path = path
        self.spec = spec
        self.options: dict[str, list[str | None]] = {}  # first name of the option → values given
        self.positionals: list[str] = []
        self.pending: tuple | None = None  # an option still waiting for its value
        self.after_dashes = False
        self.nested: list[str] | None = None  # words of a whole command line (lab run SCENARIO -- …)
        self.help = False  # -h/--help/--version typed: nothing more to complete

    def value(self, name: str) -> str | None:
        values = self.options.get(name)
        return values[-1] if values else None

    def given(self, name: str) -> bool:
        return name in self.options


def commands() -> dict:
    from akslbctl.cli._spec import COMMANDS

    return COMMANDS


def find_option(spec: dict, word: str) -> tuple | None:
    for option in spec["options"]:
        if word in option[0]:
            return option
    return None


def parse(words: list[str], table: dict | None = None) -> Line:
    """Walk the complete words as click would: subcommands, options (with their values), positionals."""
    table = table if table is not None else commands()
    line = Line("", table[""])
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if line.nested is not None:
            line.nested.append(word)
            continue
        if line.after_dashes or word == "-" or not word.startswith("-"):
            if line.after_dashes is False and not line.positionals and word in line.spec["commands"]:
                line.path = f"{line.path} {word}".strip()
                line.spec = table[line.path]
                continue
            _positional(line, word)
            continue
        if word == "--":
            line.after_dashes = True
            if _next_arg_kind(line) == "command":
                line.nested = []
            continue
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            option = find_option(line.spec, name)
            if option is None:
                continue  # unknown to this command: click would refuse it; nothing to learn from it
            if option[1] is None:
                _record(line, option, None)
            elif eq:
                _record(line, option, value)
            elif i < len(words):
                _record(line, option, words[i])
                i += 1
            else:
                line.pending = option
            continue
        # Short options: -n NS, -nNS, or flags bundled as -Aw.
        rest = word[1:]
        while rest:
            option = find_option(line.spec, "-" + rest[0])
            rest = rest[1:]
            if option is None:
                break
            if option[1] is None:
                _record(line, option, None)
                continue
            if rest:
                _record(line, option, rest[1:] if rest.startswith("=") else rest)
            elif i < len(words):
                _record(line, option, words[i])
                i += 1
            else:
                line.pending = option
            break
    return line


def _record(line: Line, option: tuple, value: str | None) -> None:
    line.options.setdefault(option[0][0], []).append(value)
    if option[0][0] in ("--help", "--version"):
        line.help = True


def _positional(line: Line, word: str) -> None:
    if _next_arg_kind(line) == "command":
        line.nested = [word]
        return
    line.positionals.append(word)


def _next_arg_kind(line: Line):
    args = line.spec["args"]
    index = len(line.positionals)
    if index < len(args):
        return args[index][1]
    if args and args[-1][2]:
        return args[-1][1]
    return None


# -- candidates ------------------------------------------------------------------------------------


def complete(words: list[str], current: str, *, api: bool = True, table: dict | None = None) -> tuple[list, int]:
    """Candidates ``(value, description)`` and the directive for ``current`` after ``words``."""
    table = table if table is not None else commands()
    line = parse(words, table)
    if line.nested is not None:
        # lab run SCENARIO -- COMMAND…: a whole command line, completed statically (the lab's cluster
        # is not the one the kubeconfig points at, so no API-backed candidates there).
        return complete(line.nested, current, api=False, table=table)
    if line.help:
        return [], NO_FILE
    if line.pending is not None:
        return _values(line, line.pending, current, api)
    if current.startswith("-") and not line.after_dashes:
        if "=" in current:  # --output=js, -o=js: the value after '='
            name, _, value = current.partition("=")
            option = find_option(line.spec, name if name.startswith("--") else "-" + name[-1:])
            if option is None or option[1] is None:
                return [], ERROR
            return _values(line, option, value, api)
        return _flags(line, current), NO_FILE
    if line.spec["commands"] and not line.positionals:
        subs = [(name, table[f"{line.path} {name}".strip()]["help"]) for name in line.spec["commands"]]
        return [c for c in subs if c[0].startswith(current)], NO_FILE
    kind = _next_arg_kind(line)
    if kind == "service":
        return _services(line, current, api)
    if isinstance(kind, tuple):
        return [c for c in kind if c[0].startswith(current)], NO_FILE
    if kind == "command":  # lab run SCENARIO <TAB>: the command to run, as after '--'
        return complete([], current, api=False, table=table)
    return [], NO_FILE


def _flags(line: Line, current: str) -> list:
    out = []
    for names, _value, repeatable, help_text in line.spec["options"]:
        if line.given(names[0]) and not repeatable:
            continue
        out.extend((n, help_text) for n in names if n.startswith(current))
    return out


def _values(line: Line, option: tuple, current: str, api: bool) -> tuple[list, int]:
    kind = option[1]
    if isinstance(kind, tuple):
        return [c for c in kind if c[0].startswith(current)], NO_FILE
    if kind == "file":
        return [], DEFAULT
    if kind.startswith("file:"):
        return [(ext, "") for ext in kind[5:].split(",")], FILTER_EXT
    if kind == "context":
        from akslbctl.cli import candidates

        found = candidates.contexts(line.value("--kubeconfig"))
        return [c for c in found if c[0].startswith(current)], NO_FILE
    if kind == "namespace":
        if not api:
            return [], NO_FILE
        from akslbctl.cli import candidates

        found = candidates.namespaces(_scope(line))
        return [c for c in found if c[0].startswith(current)], NO_FILE
    return [], NO_FILE


def _scope(line: Line):
    from akslbctl.cli.candidates import Scope

    return Scope(line.value("--kubeconfig"), line.value("--context"), line.value("--namespace"))


def _services(line: Line, current: str, api: bool) -> tuple[list, int]:
    """``svc/NAME`` of the LoadBalancer Services in the namespace; bare names after ``svc``."""
    if line.given("--all-namespaces") or line.given("--selector") or line.given("--filename"):
        return [], NO_FILE  # those name no Service (-A, -l) or name it in the case file (-f)
    if line.positionals:
        if len(line.positionals) == 1 and line.positionals[0].lower() in SERVICE_TYPES and "/" not in current:
            form = "{name}"
        else:
            return [], NO_FILE  # akslbctl takes one Service
    elif "/" in current:
        kind = current.split("/", 1)[0]
        if kind.lower() not in SERVICE_TYPES:
            return [], NO_FILE
        form = kind + "/{name}"
    elif any(t.startswith(current) for t in ("svc/", "service/")) or not current:
        form = "svc/{name}"
    else:
        form = "{name}"  # a bare name is a valid argument too
    if not api:
        return [], NO_FILE
    from akslbctl.cli import candidates

    found = candidates.services(_scope(line))
    out = [(form.format(name=name), desc) for name, desc in found]
    return [c for c in out if c[0].startswith(current)], NO_FILE


# -- the protocol ----------------------------------------------------------------------------------


def answer(request: str, args: list[str], *, api: bool = True) -> str:
    """The whole answer to ``__complete ARGS``: candidate lines and the directive line."""
    descriptions = request != "__completeNoDesc"
    words, current = (args[:-1], args[-1]) if args else ([], "")
    try:
        found, directive = complete(words, current, api=api)
    except Exception:  # an unreachable server, a broken kubeconfig, a bug: never in the command line
        found, directive = [], ERROR
    from akslbctl.render.escape import escape, unsafe

    lines = []
    for value, desc in found:
        if unsafe(str(value)):  # no real name holds a control character: never typed into the line
            continue
        value = _one_line(value)
        desc = escape(_one_line(desc)) if descriptions else ""
        lines.append(f"{value}\t{desc}" if desc else value)
    lines.append(f":{directive}")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(str(text).replace("\t", " ").split())


def main(request: str, args: list[str], out=None) -> int:
    """Entry for ``akslbctl __complete``: always exit 0, only the protocol on stdout."""
    from akslbctl.cli import candidates

    candidates.QUIET = True  # this process only completes: silence library logging if the API is asked
    out = out or sys.stdout
    try:
        out.write(answer(request, args))
        out.flush()
    except BrokenPipeError:
        pass
    except KeyboardInterrupt:
        return 130  # Ctrl-C: the shell abandons the TAB; interrupted, as every command (contract §4)
    return 0
