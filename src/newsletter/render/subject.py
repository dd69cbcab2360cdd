"""The issue subject's template fields, `{name}` and `{number}`: the one place they are filled.

A field whose value is not known yet stays as written (a draft's subject gets the newsletter's
name before the store numbers it), so filling is idempotent and can be done in steps. Pure.
"""

from __future__ import annotations


def fill_subject(template: str, *, name: str | None = None, number: int | None = None) -> str:
    """`template` with `{name}` and `{number}` replaced by the values given."""
    subject = template
    if name is not None:
        subject = subject.replace("{name}", name)
    if number is not None:
        subject = subject.replace("{number}", str(number))
    return subject
