"""A PostgreSQL schema of a benchmark's own, so a run never touches the database's others."""

from __future__ import annotations


def own_schema(url: str, schema: str) -> str:
    """`url` with its search path on `schema`, dropped and created anew first."""
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    scoped = sa.engine.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False)
