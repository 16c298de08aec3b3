"""The Drechtsteden flows, roles and reference data, exported as one `REGION`."""

from flows import coalitie, common, groeiagenda, reference, samenleving
from flows.roles import ROLE_KINDS
from notifications.render import TemplateRenderer
from workflow.registry import Region

_ROLES = frozenset(k.name for k in ROLE_KINDS)
_TEMPLATES = TemplateRenderer().templates()

REGION = Region(
    name="Drechtsteden",
    role_kinds=ROLE_KINDS,
    flows=(
        groeiagenda.build(known_roles=_ROLES, known_templates=_TEMPLATES),
        coalitie.build(known_roles=_ROLES, known_templates=_TEMPLATES),
        samenleving.build(known_roles=_ROLES, known_templates=_TEMPLATES),
    ),
    seed=reference.seed,
    system_actor_label="systeem",
    engine_step_labels={"extend_deadline": "Termijn verlengd",
                        "migrate_flow": "Overgezet naar een andere versie van het proces",
                        "set_public": "Openbaarheid gewijzigd"},
    lookups={"frameworks": groeiagenda.frameworks_lookup,
             "municipalities": common.municipality_facts},
    participant_labels={
        "joined": "doet mee",
        "declined": "ziet af",
        "approved": "akkoord",
        "rejected": "niet akkoord",
        "left": "uitgetreden",
    },
)
