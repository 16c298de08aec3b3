"""The overview of a joint decision: one concept text, one date, and where every participant stands.

Flows ask a joint decision by writing `joint_decision` (text, date, the state it is asked in,
and the decision rule when there is one) into the initiative's data, and each participant's
answer as `decision` (for / against / abstain) and `decided_on` into its participant data.
This module only reads those, so every interface shows the same overview.
"""

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import col, select

from workflow.calendar import local_date
from workflow.context import ACTIVE_PARTICIPATION
from workflow.decisions import RULE_LABELS, VOTE_LABELS, Rule, Vote
from workflow.engine import LIVE_DEADLINE, Engine
from workflow.errors import NotFound
from workflow.models import Deadline, Initiative, Municipality, Participant


@dataclass(frozen=True)
class Answer:
    """Where one municipality stands: asked, and if decided, what and when."""

    municipality: str
    name: str
    status: str  # the participant's status code
    status_label: str
    taking_part: bool
    decision: str | None  # for / against / abstain, or None while undecided
    decision_label: str
    decided_on: str | None
    overdue: bool


@dataclass(frozen=True)
class JointDecisionOverview:
    initiative_id: int
    title: str
    text: str
    due: date | None
    open: bool  # the initiative still waits in the state the decision was asked in
    rule: str | None
    rule_label: str
    answers: list[Answer] = field(default_factory=list)
    outcome: dict[str, Any] | None = None

    @property
    def undecided(self) -> list[str]:
        return [a.municipality for a in self.answers if a.taking_part and a.decision is None]

    @property
    def overdue(self) -> list[str]:
        return [a.municipality for a in self.answers if a.overdue]

    def counts(self) -> dict[str, int]:
        found = {"asked": 0, "for": 0, "against": 0, "abstain": 0, "undecided": 0, "overdue": 0}
        for a in self.answers:
            if not a.taking_part and a.decision is None:
                continue
            found["asked"] += 1
            found[a.decision or "undecided"] += 1
            found["overdue"] += a.overdue
        return found

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["due"] = self.due.isoformat() if self.due else None
        out["counts"] = self.counts()
        return out


def overview(engine: Engine, initiative_id: int, *, now: datetime | None = None) -> JointDecisionOverview:
    """The joint decision of an initiative; `NotFound` when none was ever asked."""
    moment = now or engine.clock()
    with engine.db.read() as session:
        row = session.get(Initiative, initiative_id)
        if row is None:
            raise NotFound(f"Initiatief {initiative_id} bestaat niet.")
        joint = row.data.get("joint_decision")
        if not joint:
            raise NotFound(
                f"Bij initiatief {initiative_id} is (nog) geen gezamenlijk besluit gevraagd."
            )
        is_open = row.state == joint.get("state")
        deadline = session.exec(
            select(Deadline)
            .where(Deadline.initiative_id == row.id, Deadline.state == joint.get("state"))
            .order_by(col(Deadline.id).desc())
        ).first()
        due = _due(deadline, joint.get("date"))
        running = is_open and (deadline is None or deadline.status in LIVE_DEADLINE)
        past_due = due is not None and due < local_date(moment)
        names = dict(session.exec(select(col(Municipality.slug), col(Municipality.name))).all())
        labels = engine.registry.region.participant_labels
        answers = []
        participants = session.exec(
            select(Participant)
            .where(Participant.initiative_id == row.id)
            .order_by(col(Participant.municipality))
        )
        for p in participants:
            decision = p.data.get("decision")
            taking_part = p.status in ACTIVE_PARTICIPATION
            if not taking_part and decision is None and p.municipality not in joint.get("asked", ()):
                continue  # declined before the question was put: never asked
            answers.append(
                Answer(
                    municipality=p.municipality,
                    name=names.get(p.municipality, p.municipality),
                    status=p.status,
                    status_label=labels.get(p.status, p.status),
                    taking_part=taking_part,
                    decision=decision,
                    decision_label=VOTE_LABELS[Vote(decision)] if decision else "nog niet besloten",
                    decided_on=p.data.get("decided_on"),
                    overdue=running and past_due and taking_part and decision is None,
                )
            )
        rule = joint.get("rule")
        return JointDecisionOverview(
            initiative_id=initiative_id,
            title=row.title,
            text=joint.get("text", ""),
            due=due,
            open=is_open,
            rule=rule,
            rule_label=RULE_LABELS[Rule(rule)] if rule else "",
            answers=answers,
            outcome=row.data.get("go_outcome") if rule else None,
        )


def _due(deadline: Deadline | None, asked_date: str | None) -> date | None:
    """The running deadline's day (it may have been extended), else the date that was asked."""
    if deadline is not None:
        return local_date(deadline.due_at.replace(tzinfo=deadline.due_at.tzinfo or UTC))
    return date.fromisoformat(asked_date) if asked_date else None
