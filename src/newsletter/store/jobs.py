"""When each recurring job last ran, so a restart can tell which run it missed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from newsletter.store.desk_tables import job_runs
from newsletter.store.engine import Repository


class JobRunRepository(Repository):
    def last_run(self, name: str) -> datetime | None:
        with self.engine.connect() as connection:
            value = connection.execute(
                select(job_runs.c.last_run_at).where(job_runs.c.name == name)
            ).scalar()
        return value

    def record(self, name: str, at: datetime) -> None:
        with self.engine.begin() as connection:
            updated = connection.execute(
                job_runs.update().where(job_runs.c.name == name).values(last_run_at=at)
            )
            if updated.rowcount == 0:
                connection.execute(job_runs.insert().values(name=name, last_run_at=at))
