"""An initiative keeps the flow version it started on; new initiatives start on the newest."""

import dataclasses

import pytest

from tests.routes import submit
from workflow.errors import UnknownTrigger


def _v2_without_commitments(app):
    v1 = app.registry.get("groeiagenda")
    v2 = dataclasses.replace(
        v1, version=2, label="Groeiagenda (2027)",
        transitions=[t for t in v1.transitions if t.trigger != "record_commitment"],
    )
    app.registry.add(v2)
    return v2


def test_running_initiatives_keep_their_version(app, engine, people):
    old = submit(engine, people, "Voor de wijziging")
    _v2_without_commitments(app)
    new = submit(engine, people, "Na de wijziging")

    from workflow.models import Initiative
    with app.db.read() as s:
        assert (1, 2) == (s.get(Initiative, old).flow_version, s.get(Initiative, new).flow_version)

    assert "with_college" == engine.fire(old, "record_commitment", actor=people["griffie_sliedrecht"]).state
    with pytest.raises(UnknownTrigger):
        engine.fire(new, "record_commitment", actor=people["griffie_sliedrecht"])
    assert "with_college" == engine.fire(new, "adopt_motion", actor=people["griffie_sliedrecht"]).state


def test_registry_gives_newest_unless_asked(app):
    _v2_without_commitments(app)
    assert 2 == app.registry.get("groeiagenda").version
    assert 1 == app.registry.get("groeiagenda", 1).version
