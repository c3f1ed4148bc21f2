"""``@record``: ``@dataclass`` as akslbctl uses it, at a fraction of the cost of defining a class.

``dataclasses.dataclass`` writes the source of ``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and
(frozen) ``__setattr__``/``__delattr__`` for every class and compiles each: ~0.8 ms per frozen class,
and akslbctl defines ~140 of them — most of what a command spends importing the model and the
analysis before it reads a byte. A record is a real dataclass (``dataclasses.fields``, ``replace``,
``asdict`` and ``is_dataclass`` work on it; ``dataclasses`` collects its fields), with the same
methods and the same behaviour, made cheaply:

- ``__init__`` is compiled from the same source ``dataclasses`` would write, on the class's first
  instantiation, so a class a run never instantiates costs nothing to compile — or taken from
  ``akslbctl/_record_inits.py`` (written by ``scripts/regen.py``), compiled ahead, when its source
  there is the same;
- ``__eq__``, ``__hash__`` and ``__repr__`` compare, hash and show the field values through one
  ``operator.attrgetter``, shared code instead of code compiled per class;
- frozen records refuse assignment and deletion as frozen dataclasses do (``FrozenInstanceError``).

Supported: ``frozen``, ``field(default=…)``, ``field(default_factory=…)``, ``field(repr=False)``,
``field(compare=False)``, ``field(hash=…)`` and ``__post_init__``; anything else (``InitVar``,
``kw_only``, ``field(init=False)``) is refused when the class is defined, so a record never quietly
behaves differently from the dataclass it stands for.
"""

from __future__ import annotations

import dataclasses
import reprlib
from operator import attrgetter

_FIELDS = "__dataclass_fields__"


def record(cls=None, /, *, frozen: bool = False):
    """``@record`` or ``@record(frozen=True)``: as ``@dataclass`` / ``@dataclass(frozen=True)``."""

    def wrap(cls):
        return _build(cls, frozen)

    return wrap if cls is None else wrap(cls)


def _build(cls, frozen: bool):
    own = cls.__dict__
    if frozen and ("__setattr__" in own or "__delattr__" in own):
        raise TypeError(f"cannot overwrite attribute __setattr__/__delattr__ in class {cls.__name__}")
    class_hash = own.get("__hash__", dataclasses.MISSING)
    explicit_hash = not (class_hash is dataclasses.MISSING or (class_hash is None and "__eq__" in own))
    undocumented = not cls.__doc__
    if undocumented:  # dataclasses would document it with inspect.signature(), ~0.2 ms a class
        cls.__doc__ = cls.__name__
    # dataclasses collects the fields (ClassVar, defaults, inheritance) and adds __match_args__; the
    # methods are this module's.
    cls = dataclasses.dataclass(cls, init=False, repr=False, eq=False)
    every = list(getattr(cls, _FIELDS).values())
    fields = [f for f in every if f._field_type is dataclasses._FIELD]
    for f in every:
        if f._field_type is not dataclasses._FIELD and f._field_type is not dataclasses._FIELD_CLASSVAR:
            raise TypeError(f"{cls.__name__}.{f.name}: InitVar is not supported by @record")
        if f in fields and (not f.init or f.kw_only is True):
            raise TypeError(f"{cls.__name__}.{f.name}: init=False and kw_only are not supported by @record")
    seen_default = False
    for f in fields:
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        if seen_default and not has_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")
        seen_default = seen_default or has_default

    if undocumented:
        cls.__doc__ = f"{cls.__name__}({', '.join(f.name for f in fields)})"
    if "__init__" not in own:
        cls.__init__ = _lazy_init(cls, fields, frozen)
        REGISTRY.append((cls, fields, frozen))
    shown = [f.name for f in fields if f.repr]
    if "__repr__" not in own:
        cls.__repr__ = _repr(shown)
    compared = tuple(f.name for f in fields if f.compare)
    if "__eq__" not in own:
        cls.__eq__ = _eq(_getter(compared))
    hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
    if not explicit_hash:
        cls.__hash__ = _hash(_getter(hashed)) if frozen else None
    if frozen:
        names = frozenset(f.name for f in fields)
        cls.__setattr__ = _frozen_setattr(cls, names)
        cls.__delattr__ = _frozen_delattr(cls, names)
    return cls


def _getter(names: tuple[str, ...]):
    """The field values as one tuple, in C: ``attrgetter`` of one name returns the bare value."""
    if not names:
        return lambda obj: ()
    get = attrgetter(*names)
    if len(names) == 1:
        return lambda obj: (get(obj),)
    return get


def _eq(values):
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _hash(values):
    def __hash__(self):
        return hash(values(self))

    return __hash__


def _repr(names: list[str]):
    @reprlib.recursive_repr()
    def __repr__(self):
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({inner})"

    return __repr__


def _frozen_setattr(cls, names: frozenset[str]):
    def __setattr__(self, name, value):
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    return __setattr__


def _frozen_delattr(cls, names: frozenset[str]):
    def __delattr__(self, name):
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __delattr__


def _lazy_init(cls, fields, frozen: bool):
    """An ``__init__`` that compiles the real one the first time the class is instantiated."""

    def __init__(self, *args, **kwargs):
        real = _compile_init(cls, fields, frozen)
        cls.__init__ = real
        real(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


_NO_ARGUMENT = object()  # the default of a field with a default_factory: "not passed"


# Every record class whose __init__ this module writes, with its fields (scripts/regen.py writes
# akslbctl/_record_inits.py from it).
REGISTRY: list[tuple[type, list, bool]] = []


def _compile_init(cls, fields, frozen: bool):
    """The ``__init__`` dataclasses would write: the same parameters, defaults and assignments.

    Compiled ahead in :mod:`akslbctl._record_inits` when the function there has the very source this
    would compile now (compiling one costs ~0.13 ms, and a run makes 60–80 of them); compiled here
    otherwise."""
    source, scope = init_source(cls, fields, frozen)
    init = _ahead(f"{cls.__module__}.{cls.__qualname__}", source, scope)
    if init is None:
        exec(source, scope)  # noqa: S102 — source built from the class's own field names
        init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


_AHEAD: dict | None = None


def _ahead(key: str, source: str, scope: dict):
    """The ``__init__`` compiled ahead for ``key``, made with ``scope``, when its source is ``source``."""
    global _AHEAD
    if _AHEAD is None:
        try:
            from akslbctl._record_inits import INITS
        except Exception:  # not generated (or broken): every __init__ is compiled here
            INITS = {}
        _AHEAD = INITS
    entry = _AHEAD.get(key)
    if entry is None or entry[0] != source:
        return None
    return entry[1](**scope)


def init_source(cls, fields, frozen: bool) -> tuple[str, dict[str, object]]:
    """(source of the ``__init__``, the names it refers to besides its parameters)."""
    scope: dict[str, object] = {"__NO_ARGUMENT": _NO_ARGUMENT, "__object_setattr": object.__setattr__}
    params, body = [], []
    for i, f in enumerate(fields):
        value = f.name
        if f.default_factory is not dataclasses.MISSING:
            scope[f"__factory{i}"] = f.default_factory
            params.append(f"{f.name}=__NO_ARGUMENT")
            value = f"__factory{i}() if {f.name} is __NO_ARGUMENT else {f.name}"
        elif f.default is not dataclasses.MISSING:
            scope[f"__default{i}"] = f.default
            params.append(f"{f.name}=__default{i}")
        else:
            params.append(f.name)
        if frozen:
            body.append(f"    __object_setattr(self, {f.name!r}, {value})")
        else:
            body.append(f"    self.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"
    if not params:
        source = source.replace("(self, )", "(self)")
    return source, scope
