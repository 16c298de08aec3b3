"""Listings of running deadlines and of the reminders still to come (CLI and pages)."""

from datetime import datetime
from typing import Any

from sqlmodel import col, func, select

from workflow.calendar import local_date
from workflow.clock import aware, maybe_aware
from workflow.db import Database
from workflow.engine import LIVE_DEADLINE, Engine
from workflow.models import Deadline, Initiative, Reminder


def list_deadlines(
    engine: Engine,
    *,
    overdue: bool = False,
    initiative_id: int | None = None,
    now: datetime | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Running deadlines (those of the state an initiative is in), soonest first.

    `overdue` keeps those whose date has passed, escalated or not yet swept.
    """
    moment = now or engine.clock()
    today = local_date(moment)
    with engine.db.read() as session:
        query = (
            select(Deadline, Initiative)
            .join(Initiative, col(Initiative.id) == Deadline.initiative_id)
            .where(col(Deadline.status).in_(LIVE_DEADLINE), Deadline.state == Initiative.state)
            .order_by(col(Deadline.due_at), col(Deadline.id))
            .limit(limit)
        )
        if overdue:
            query = query.where(Deadline.due_at < moment)
        if initiative_id is not None:
            query = query.where(Deadline.initiative_id == initiative_id)
        found = session.exec(query).all()
        ids = [int(d.id or 0) for d, _ in found]
        next_reminder: dict[int, datetime] = {}
        if ids:
            reminders = (
                select(Reminder.deadline_id, func.min(Reminder.remind_at))
                .where(
                    col(Reminder.deadline_id).in_(ids),
                    col(Reminder.sent_at).is_(None),
                    col(Reminder.cancelled).is_(False),
                )
                .group_by(col(Reminder.deadline_id))
            )
            next_reminder = {d: at for d, at in session.exec(reminders)}
        out = []
        for deadline, row in found:
            spec = engine.registry.get(row.flow, row.flow_version)
            state = spec.states.get(row.state)
            out.append(
                {
                    "id": deadline.id,
                    "initiative_id": row.id,
                    "title": row.title,
                    "municipality": row.municipality,
                    "state": row.state,
                    "state_label": state.label if state else row.state,
                    "label": deadline.label,
                    "due_at": aware(deadline.due_at),
                    "due_date": local_date(aware(deadline.due_at)),
                    "days_left": (local_date(aware(deadline.due_at)) - today).days,
                    "overdue": aware(deadline.due_at) < moment,
                    "status": deadline.status,
                    "escalated_at": maybe_aware(deadline.escalated_at),
                    "next_reminder": maybe_aware(next_reminder.get(int(deadline.id or 0))),
                }
            )
        return out


def pending_reminders(db: Database, deadline_id: int) -> list[datetime]:
    """The moments at which the deadline's audiences will still be reminded."""
    with db.read() as session:
        query = (
            select(Reminder.remind_at)
            .where(
                Reminder.deadline_id == deadline_id,
                col(Reminder.sent_at).is_(None),
                col(Reminder.cancelled).is_(False),
            )
            .order_by(col(Reminder.remind_at))
        )
        return [aware(at) for at in session.exec(query)]
