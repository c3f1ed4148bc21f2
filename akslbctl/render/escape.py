"""The one escape for text from outside on its way to a human reader (tables, trees, live views,
notes, error lines, completion candidates). JSON and YAML output never pass here: they stay exact.

What a Kubernetes API, ARM, a node's probe answer, a case file or a kubeconfig puts into a name, a
label, an annotation, a message or a body is data, never terminal control: C0 and C1 control
characters (ESC sequences — OSC 52 clipboard writes, clear-screen, cursor moves —, BEL, backspace,
CR), a newline inside a name (a forged table row), DEL, and the Unicode bidi controls and line
separators that reorder or break what is shown (U+202E …, Trojan Source) come out as visible escapes
(``\\x1b``, ``\\n``, ``\\u202e``), as kubectl does since CVE-2021-25743.

:func:`escape` does one string; :func:`human` returns a copy of a whole model (dataclasses, tuples,
lists, dicts) with every string in it escaped — what the human renderers are given.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f"  # C0, DEL, C1
    "\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb"  # bidi, zero-width, separators
    "\ud800-\udfff]"  # lone surrogates
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _one(match: re.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def unsafe(text: str) -> bool:
    """Whether ``text`` holds anything :func:`escape` would change."""
    return _UNSAFE.search(text) is not None


def escape(text: str) -> str:
    """``text`` with every character that could steer a terminal (or reorder the line) made visible."""
    if not isinstance(text, str):
        text = str(text)
    if text.isascii() and text.isprintable():  # the common case, fast
        return text
    return _UNSAFE.sub(_one, text)


def human(obj: Any) -> Any:
    """A copy of ``obj`` with every string in it escaped: dataclasses (frozen too), tuples (named
    too), lists, sets and mappings are walked; anything else is kept as it is.

    ``obj`` itself when no string in it needs escaping — what nearly every diagnosis is: reading it
    allocates nothing, where copying a 5,000-node diagnosis took a quarter of a second.
    """
    if not _needs_escape(obj, set()):
        return obj
    return _walk(obj, {})


def _needs_escape(obj: Any, seen: set[int]) -> bool:
    """Whether :func:`_walk` would change any string reachable from ``obj`` (through the same
    containers it walks). One loop over a stack: no recursion, no copies."""
    stack = [obj]
    pop, push = stack.pop, stack.extend
    plain = (bool, int, float, bytes, type(None))
    sequences = (tuple, list, set, frozenset)
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            if not (item.isascii() and item.isprintable()) and unsafe(item):
                return True
            continue
        if kind in plain:
            continue
        key = id(item)
        if key in seen:
            continue
        seen.add(key)
        if kind in sequences:
            push(item)
            continue
        fields = _dataclass_names(item)
        if fields is not None:
            values = getattr(item, "__dict__", None)
            if values is not None and all(n in values for n in fields):  # fields and cached properties alike
                push(values.values())
            else:
                push(getattr(item, n, None) for n in (*fields, *(values or ())))
        elif isinstance(item, str):
            if unsafe(item):
                return True
        elif isinstance(item, (bool, int, float, bytes)):
            continue
        elif isinstance(item, sequences):
            push(item)
        elif isinstance(item, dict) or hasattr(item, "items") and hasattr(item, "keys"):
            try:
                push(v for pair in item.items() for v in pair)
            except Exception:
                continue  # _walk keeps such a mapping as it is
    return False


_NAMES: dict[type, tuple[str, ...] | None] = {}


def _dataclass_names(obj: Any) -> tuple[str, ...] | None:
    """The field names of a dataclass instance (per class, once), None for anything else."""
    kind = type(obj)
    try:
        return _NAMES[kind]
    except KeyError:
        pass
    import dataclasses

    names = tuple(f.name for f in dataclasses.fields(obj)) if dataclasses.is_dataclass(kind) else None
    _NAMES[kind] = names
    return names


def _walk(obj: Any, memo: dict[int, Any]) -> Any:
    import dataclasses

    if isinstance(obj, str):
        return escape(obj)
    if obj is None or isinstance(obj, (bool, int, float, bytes)):
        return obj
    key = id(obj)
    if key in memo:
        return memo[key]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        new = object.__new__(type(obj))
        memo[key] = new
        names = [f.name for f in dataclasses.fields(obj)]
        names += [n for n in getattr(obj, "__dict__", {}) if n not in names]  # cached properties, …
        for name in names:
            if hasattr(obj, name):
                object.__setattr__(new, name, _walk(getattr(obj, name), memo))
        return new
    if isinstance(obj, tuple):
        items = [_walk(v, memo) for v in obj]
        new = type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
    elif isinstance(obj, list):
        new = [_walk(v, memo) for v in obj]
    elif isinstance(obj, (set, frozenset)):
        new = type(obj)(_walk(v, memo) for v in obj)
    elif isinstance(obj, dict) or hasattr(obj, "items") and hasattr(obj, "keys"):
        try:
            new = {_walk(k, memo): _walk(v, memo) for k, v in obj.items()}
        except Exception:
            return obj
        if isinstance(obj, dict) and type(obj) is not dict:
            with contextlib.suppress(Exception):
                new = type(obj)(new)
    else:
        return obj
    memo[key] = new
    return new
