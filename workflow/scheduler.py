"""The scheduler: two short periodic jobs, sweeping deadlines and draining the outbox, on APScheduler 3.11."""

import asyncio
import logging
import os
import socket
from datetime import UTC, datetime

from apscheduler.executors.asyncio import AsyncIOExecutor  # type: ignore[import-untyped]
from apscheduler.jobstores.memory import MemoryJobStore  # type: ignore[import-untyped]
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from workflow.app import App
from workflow.deadlines import sweep

log = logging.getLogger(__name__)

SWEEP_JOB = "sweep"
DRAIN_JOB = "drain"


def worker_name() -> str:
    """Who claimed a row, for people reading the tables: host and process id."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def build_scheduler(
    app: App, *, sweep_seconds: float = 30, drain_seconds: float = 10
) -> AsyncIOScheduler:
    """A scheduler with the sweep and drain jobs, not started; start it inside the running loop.

    The job store is in memory on purpose: the deadlines and the outbox in our own tables are
    the record, so a restart loses nothing and several processes never share a job store.
    Both jobs run once right after start, which is how a worker that was down catches up.
    """
    worker = worker_name()
    scheduler = AsyncIOScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": AsyncIOExecutor()},
        job_defaults={
            # A run that was late (a busy loop, a suspended laptop) is done once, not repeated.
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": None,
        },
        timezone=UTC,
    )
    first = datetime.now(UTC)

    async def sweep_job() -> None:
        counts = await asyncio.to_thread(sweep, app.engine, worker=worker)
        if counts.messages:
            # New reminders should not wait a whole drain interval.
            scheduler.modify_job(DRAIN_JOB, next_run_time=datetime.now(UTC))

    async def drain_job() -> None:
        from notifications.delivery import drain

        await drain(app.db, app.settings, worker=worker, renderer=app.engine.renderer)

    scheduler.add_job(
        sweep_job,
        IntervalTrigger(seconds=sweep_seconds, timezone=UTC),
        id=SWEEP_JOB,
        name="Termijnen en herinneringen nalopen",
        next_run_time=first,
    )
    scheduler.add_job(
        drain_job,
        IntervalTrigger(seconds=drain_seconds, timezone=UTC),
        id=DRAIN_JOB,
        name="Uitgaande e-mail versturen",
        next_run_time=first,
    )
    return scheduler


async def run_once(app: App) -> dict[str, int]:
    """One sweep and one drain, in that order (so new reminders go out at once); returns counts."""
    from notifications.delivery import drain

    worker = worker_name()
    swept = await asyncio.to_thread(sweep, app.engine, worker=worker)
    drained = await drain(app.db, app.settings, worker=worker, renderer=app.engine.renderer)
    return {**swept.as_dict(), **drained.as_dict()}
