"""Placeholders spelled with a nonce per render: the frozen render keeps its nonce.

Renders frozen before this revision hold the fixed `%%unsubscribe_url%%` and `%%name%%`
markers: they are respelled with a nonce of their own, so a send resumed after the upgrade
still fills them in.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004_mail"
down_revision = "0003_audience"

_LEGACY = ("%%unsubscribe_url%%", "%%name%%")


def upgrade() -> None:
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rendered_placeholders", sa.String(length=64), nullable=True))
    issues = sa.table(
        "issues",
        sa.column("id", sa.Integer),
        sa.column("rendered_subject", sa.Text),
        sa.column("rendered_html", sa.Text),
        sa.column("rendered_text", sa.Text),
        sa.column("rendered_placeholders", sa.String),
    )
    connection = op.get_bind()
    frozen = connection.execute(
        sa.select(
            issues.c.id, issues.c.rendered_subject, issues.c.rendered_html, issues.c.rendered_text
        ).where(issues.c.rendered_html.is_not(None))
    ).all()
    for issue_id, subject, html, text in frozen:
        nonce = secrets.token_hex(12)
        new = (f"%%unsubscribe_url_{nonce}%%", f"%%name_{nonce}%%")

        def respelled(value: str | None, new: tuple[str, str] = new) -> str | None:
            if value is None:
                return None
            for old, replacement in zip(_LEGACY, new, strict=True):
                value = value.replace(old, replacement)
            return value

        connection.execute(
            issues.update()
            .where(issues.c.id == issue_id)
            .values(
                rendered_subject=respelled(subject),
                rendered_html=respelled(html),
                rendered_text=respelled(text),
                rendered_placeholders=nonce,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_column("rendered_placeholders")
