"""Reference data: the Drechtsteden municipalities and partners, Groeiagenda themes, working groups.

`seed` inserts what is missing and leaves edited rows alone, so it can run on every upgrade.
"""

from sqlmodel import Session

from workflow.models import Municipality, Theme, WorkingGroup, WorkingGroupMember

DRECHTSTEDEN = "Drechtsteden"

# Inhabitants: CBS, 1 January 2024 (rounded to the hundred). Bloc as in the 2020 principle
# decision: the urban area ("stedelijk") and the polder ("polder"), for weighted votes.
MUNICIPALITIES: tuple[tuple[str, str, int, str, str], ...] = (
    ("alblasserdam", "Alblasserdam", 20_800, DRECHTSTEDEN, "polder"),
    ("dordrecht", "Dordrecht", 121_400, DRECHTSTEDEN, "stedelijk"),
    ("hardinxveld-giessendam", "Hardinxveld-Giessendam", 18_900, DRECHTSTEDEN, "polder"),
    ("hendrik-ido-ambacht", "Hendrik-Ido-Ambacht", 32_300, DRECHTSTEDEN, "stedelijk"),
    ("papendrecht", "Papendrecht", 32_700, DRECHTSTEDEN, "stedelijk"),
    ("sliedrecht", "Sliedrecht", 26_000, DRECHTSTEDEN, "polder"),
    ("zwijndrecht", "Zwijndrecht", 45_300, DRECHTSTEDEN, "stedelijk"),
    ("gorinchem", "Gorinchem", 38_100, "Alblasserwaard-Vijfherenlanden", "polder"),
    ("molenlanden", "Molenlanden", 45_400, "Alblasserwaard-Vijfherenlanden", "polder"),
    ("hoeksche-waard", "Hoeksche Waard", 89_500, "Hoeksche Waard", "polder"),
)

THEMES: tuple[tuple[str, str], ...] = (
    ("bouwen-en-wonen", "Bouwen en Wonen"),
    ("economie-en-werken", "Economie en Werken"),
    ("bereikbaarheid", "Bereikbaarheid"),
    ("energie", "Energie"),
)

DRECHTSTEDEN_SLUGS = tuple(m[0] for m in MUNICIPALITIES if m[3] == DRECHTSTEDEN)


def seed(session: Session) -> dict[str, int]:
    """Add the reference rows that are missing; returns how many of each kind were added."""
    added = {"gemeenten": 0, "thema's": 0, "werkgroepen": 0}
    for slug, name, inhabitants, region, bloc in MUNICIPALITIES:
        if session.get(Municipality, slug) is None:
            session.add(Municipality(slug=slug, name=name, inhabitants=inhabitants,
                                     region=region, bloc=bloc))
            added["gemeenten"] += 1
    for slug, name in THEMES:
        if session.get(Theme, slug) is None:
            session.add(Theme(slug=slug, name=name))
            added["thema's"] += 1
        if session.get(WorkingGroup, slug) is None:
            session.add(WorkingGroup(slug=slug, name=f"Bestuurlijke werkgroep {name}",
                                     theme_slug=slug))
            session.flush()
            for member in DRECHTSTEDEN_SLUGS:
                session.add(WorkingGroupMember(working_group_slug=slug, municipality_slug=member))
            added["werkgroepen"] += 1
    session.flush()
    return added
