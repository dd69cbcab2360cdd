"""Named tuples from TOML tables, every value checked. Pure.

A field's type says what it takes: `str`, `bool`, `int`, `float` (an integer is taken too),
`Literal[...]`, `X | None` (TOML has no null: the key is left out), `tuple[X, ...]` for an
array, or a nested named tuple for a sub-table. `Annotated` adds bounds (`Range`, `Length`) and
the field's own `Rule`; a class's `check()` method checks what spans several keys by raising
ValueError.

`checked(cls, table)` raises `ConfigError` with an empty path, the dotted key and the problem,
for the first mistake found: unknown keys first, then each field in order.

Settings are plain named tuples rather than pydantic models so that a command pays only for
what it reads: pydantic builds most of itself on first use, a third of a short command's
start-up (bench/startup.py).
"""

from collections.abc import Callable, Sequence
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from newsletter.domain.errors import ConfigError

T = TypeVar("T")
Location = tuple[str | int, ...]


class Range:
    """Bounds of a number: at least `ge`, more than `gt`, at most `le`."""

    __slots__ = ("ge", "gt", "le")

    def __init__(
        self, *, ge: float | None = None, gt: float | None = None, le: float | None = None
    ) -> None:
        self.ge, self.gt, self.le = ge, gt, le

    def problem(self, value: float) -> str | None:
        if self.ge is not None and value < self.ge:
            return f"must be at least {self.ge}"
        if self.gt is not None and value <= self.gt:
            return f"must be more than {self.gt}"
        if self.le is not None and value > self.le:
            return f"must be at most {self.le}"
        return None


class Length:
    """Bounds of a string's length."""

    __slots__ = ("high", "low")

    def __init__(self, low: int = 1, high: int | None = None) -> None:
        self.low, self.high = low, high

    def problem(self, value: str) -> str | None:
        if len(value) < self.low:
            return "must not be empty" if self.low == 1 else f"needs {self.low} characters"
        if self.high is not None and len(value) > self.high:
            return f"must be at most {self.high} characters"
        return None


class Rule:
    """A field's own check: returns the value to keep (normalised), or raises ValueError
    with a sentence the user can act on."""

    __slots__ = ("check",)

    def __init__(self, check: Callable[[Any], Any]) -> None:
        self.check = check


def checked(cls: type[T], table: object, at: Location = ()) -> T:
    """An instance of the named tuple `cls` from a TOML table, or ConfigError naming the key."""
    if not isinstance(table, dict):
        raise _error(at, f"must be a table (got {table!r})")
    kinds: dict[str, Any] = cls.__annotations__
    for key in table:
        if key not in kinds:
            raise _error((*at, key), "unknown key")
    values = {}
    for name, kind in kinds.items():
        if name in table:
            values[name] = _value(kind, table[name], (*at, name))
        elif name not in cls._field_defaults:  # type: ignore[attr-defined]
            raise _error((*at, name), "required key is missing")
    section = cls(**values)
    if check := getattr(section, "check", None):
        try:
            check()
        except ValueError as exc:  # a rule over several keys
            raise _error(at, str(exc)) from None
    return section


def is_section(kind: Any) -> bool:
    """Whether `kind` is a table's type (a named tuple), not a value's."""
    return isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields")


def _value(kind: Any, value: object, at: Location) -> Any:
    origin = get_origin(kind)
    if origin is Annotated:
        base, *extras = get_args(kind)
        result = _value(base, value, at)
        for extra in extras:
            if isinstance(extra, Range | Length) and (problem := extra.problem(result)):
                raise _error(at, f"{problem} (got {value!r})")
            if isinstance(extra, Rule):
                try:
                    result = extra.check(result)
                except ValueError as exc:
                    raise _error(at, f"{exc} (got {value!r})") from None
        return result
    if origin is UnionType or origin is Union:
        (present,) = [arg for arg in get_args(kind) if arg is not NoneType]
        return _value(present, value, at)
    if origin is Literal:
        if value not in get_args(kind):
            choices = ", ".join(repr(choice) for choice in get_args(kind))
            raise _error(at, f"must be one of {choices} (got {value!r})")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise _error(at, f"must be a list (got {value!r})")
        item, _ = get_args(kind)  # tuple[X, ...]
        return tuple(_value(item, entry, (*at, index)) for index, entry in enumerate(value))
    if is_section(kind):
        return checked(kind, value, at)
    return _scalar(kind, value, at)


def _scalar(kind: type, value: object, at: Location) -> object:
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    wanted = {str: "a string", bool: "true or false", int: "a whole number", float: "a number"}
    raise _error(at, f"must be {wanted[kind]} (got {value!r})")


def _error(at: Location, problem: str) -> ConfigError:
    return ConfigError("", dotted(at), problem)


def dotted(at: Sequence[str | int]) -> str:
    """A key's location as written in messages: `feeds[0].name`."""
    parts: list[str] = []
    for part in at:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part}]" if parts else f"[{part}]"
        else:
            parts.append(part)
    return ".".join(parts)
