"""The scheduler: two short periodic jobs in memory, started inside the running loop, catching up at once."""

import asyncio
from datetime import UTC, datetime, timedelta

import time_machine
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.interval import IntervalTrigger

from tests.routes import drive
from workflow.scheduler import DRAIN_JOB, SWEEP_JOB, build_scheduler, run_once


def _overdue(app, people):
    """An initiative whose college term passed yesterday, created nine weeks ago."""
    with time_machine.travel(datetime.now(UTC) - timedelta(weeks=9), tick=False):
        return drive(app.engine, people, "with_college")


def test_built_not_started_with_two_periodic_jobs_in_memory(app):
    scheduler = build_scheduler(app, sweep_seconds=45, drain_seconds=5)
    assert not scheduler.running
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {SWEEP_JOB, DRAIN_JOB} == set(jobs)
    assert isinstance(scheduler._jobstores["default"], MemoryJobStore)
    assert all(isinstance(job.trigger, IntervalTrigger) for job in jobs.values())
    assert (timedelta(seconds=45), timedelta(seconds=5)) == (
        jobs[SWEEP_JOB].trigger.interval, jobs[DRAIN_JOB].trigger.interval
    )


def test_running_inside_the_loop_catches_up_and_delivers(app, people, apps, smtp):
    sender = apps(INITIATIEF_SMTP_URL=smtp.url)
    _overdue(sender, people)

    async def serve():
        scheduler = build_scheduler(sender, sweep_seconds=0.2, drain_seconds=0.2)
        scheduler.start()
        try:
            for _ in range(100):  # at most 10 s
                await asyncio.sleep(0.1)
                if len(smtp.recorder.received) >= 6:
                    break
        finally:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0.05)

    asyncio.run(serve())
    subjects = sorted(m["Subject"] for m in smtp.recorder.messages())
    # 3 messages of the two steps, then the escalation (griffie, fractie) and the college's notice.
    assert 6 == len(subjects)
    assert 2 == sum(s.startswith("Termijn verstreken, uw aandacht gevraagd") for s in subjects)
    assert 1 == sum(s.startswith("Termijn verstreken: ") for s in subjects)


def test_run_once_sweeps_then_drains_and_counts(app, people, apps):
    writer = apps()
    _overdue(writer, people)
    counts = asyncio.run(run_once(writer))
    assert {"reminders": 0, "superseded": 2, "escalations": 1, "messages": 3, "sent": 6, "retried": 0,
            "failed": 0} == counts
    assert 6 == len(list(writer.settings.mail_dir.glob("*.eml")))
    assert {"reminders": 0, "superseded": 0, "escalations": 0, "messages": 0, "sent": 0, "retried": 0,
            "failed": 0} == asyncio.run(run_once(writer))
