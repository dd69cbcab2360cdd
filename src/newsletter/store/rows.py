"""Rows as domain objects: one mapper for every dataclass whose fields are columns of a row."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import RowMapping

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def from_row(cls: type[T], row: RowMapping, **converted: Any) -> T:
    """`cls` built from the row's columns named like its fields; `converted` gives the fields
    whose column needs converting (an enum, a list) or that are not columns."""
    values = {field.name: row[field.name] for field in fields(cls) if field.name not in converted}
    return cls(**values, **converted)
