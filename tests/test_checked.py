"""TOML tables into named tuples: each kind of mistake is refused, naming the key."""

from typing import Annotated, Literal, NamedTuple

import pytest

from newsletter.domain.checked import Length, Range, Rule, checked
from newsletter.domain.errors import ConfigError
from newsletter.domain.settings import Settings


def _lower(value: str) -> str:
    if " " in value:
        raise ValueError("must not contain a space")
    return value.lower()


class Inner(NamedTuple):
    name: Annotated[str, Length(1, 5)]
    ratio: Annotated[float, Range(gt=0, le=1)] = 0.5


class Outer(NamedTuple):
    port: Annotated[int, Range(ge=1, le=65535)] = 25
    mode: Literal["a", "b"] = "a"
    tag: Annotated[str, Rule(_lower)] = "x"
    flag: bool = False
    limit: int | None = None
    low: int = 0
    high: int = 10
    inner: Inner = Inner(name="i")
    items: tuple[Inner, ...] = ()
    words: tuple[Annotated[str, Length(1)], ...] = ()

    def check(self) -> None:
        if self.high < self.low:
            raise ValueError("high must be at least low")


def _problem(table: dict[str, object]) -> tuple[str, str]:
    with pytest.raises(ConfigError) as caught:
        checked(Outer, table)
    return caught.value.key, caught.value.problem


def test_values_are_taken_defaults_filled_and_rules_applied() -> None:
    built = checked(
        Outer,
        {"port": 587, "tag": "ABC", "limit": 3, "inner": {"name": "n", "ratio": 1}, "items": []},
    )
    assert built == Outer(port=587, tag="abc", limit=3, inner=Inner(name="n", ratio=1.0))
    assert isinstance(built.inner.ratio, float)  # an integer where a number is expected
    with pytest.raises(AttributeError):
        built.port = 1  # type: ignore[misc]
    arrays = checked(Outer, {"items": [{"name": "a"}], "words": ["w"]})
    assert arrays.items == (Inner(name="a"),) and arrays.words == ("w",)


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ({"prot": 25}, "prot", "unknown key"),
        ({"inner": {"name": "n", "extra": 1}}, "inner.extra", "unknown key"),
        ({"items": [{"ratio": 0.2}]}, "items[0].name", "required key is missing"),
        ({"port": 0}, "port", "must be at least 1 (got 0)"),
        ({"port": 70000}, "port", "must be at most 65535 (got 70000)"),
        ({"port": "25"}, "port", "must be a whole number (got '25')"),
        ({"port": True}, "port", "must be a whole number (got True)"),
        ({"flag": 1}, "flag", "must be true or false (got 1)"),
        ({"inner": {"name": "n", "ratio": 0}}, "inner.ratio", "must be more than 0 (got 0)"),
        ({"inner": {"name": "n", "ratio": "half"}}, "inner.ratio", "must be a number"),
        ({"inner": {"name": ""}}, "inner.name", "must not be empty"),
        ({"inner": {"name": "toolong"}}, "inner.name", "must be at most 5 characters"),
        ({"inner": "n"}, "inner", "must be a table (got 'n')"),
        ({"mode": "c"}, "mode", "must be one of 'a', 'b' (got 'c')"),
        ({"tag": "a b"}, "tag", "must not contain a space (got 'a b')"),
        ({"words": "a"}, "words", "must be a list (got 'a')"),
        ({"words": ["a", ""]}, "words[1]", "must not be empty"),
        ({"low": 5, "high": 1}, "", "high must be at least low"),
    ],
)
def test_each_mistake_names_its_key(table: dict[str, object], key: str, problem: str) -> None:
    assert _problem(table)[0] == key
    assert problem in _problem(table)[1]


def test_unknown_keys_are_reported_before_bad_values() -> None:
    assert _problem({"port": 0, "portt": 1}) == ("portt", "unknown key")


def test_the_settings_defaults_are_the_empty_file() -> None:
    """An empty config.toml gives the defaults the sections declare."""
    assert checked(Settings, {}) == Settings()
