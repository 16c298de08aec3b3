"""Reference data: the Drechtsteden municipalities and partners, Groeiagenda themes, working groups,
and the yearly task sheets (opgavebladen) with their core tasks and budgets.

`seed` inserts what is missing and leaves edited rows alone, so it can run on every upgrade.
"""

from sqlmodel import Session, select

from workflow.models import CoreTask, Municipality, TaskSheet, Theme, WorkingGroup, WorkingGroupMember

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

# The opgavebladen the councils adopt each year: per theme its core tasks (code, name) and the
# budget in euros the working group may commit without asking the councils again.
CORE_TASKS: dict[str, tuple[tuple[str, str], ...]] = {
    "bouwen-en-wonen": (
        ("BW-1", "Versnellen van de woningbouw volgens de regionale woningbouwafspraken"),
        ("BW-2", "Betaalbare woningen voor starters en middeninkomens"),
        ("BW-3", "Wonen met zorg: huisvesting voor ouderen en kwetsbare inwoners"),
        ("BW-4", "Herstructurering en verduurzaming van de bestaande woningvoorraad"),
    ),
    "economie-en-werken": (
        ("EW-1", "Leerwerkakkoord: arbeidsmarkt en leven lang ontwikkelen"),
        ("EW-2", "Maritieme maakindustrie en innovatie"),
        ("EW-3", "Werklocaties en toekomstbestendige bedrijventerreinen"),
        ("EW-4", "Vestigingsklimaat en acquisitie"),
    ),
    "bereikbaarheid": (
        ("BE-1", "Regionaal fietsnetwerk en snelfietsroutes"),
        ("BE-2", "Openbaar vervoer en knooppunten"),
        ("BE-3", "Waterbus en vervoer over water"),
        ("BE-4", "Doorstroming op de A15, A16 en N3"),
    ),
    "energie": (
        ("EN-1", "Regionale Energiestrategie: grootschalige opwek van duurzame energie"),
        ("EN-2", "Warmtetransitie en het warmtenet Drechtsteden"),
        ("EN-3", "Netcongestie en energie-infrastructuur"),
        ("EN-4", "Energiebesparing bij woningen en bedrijven"),
    ),
}

# Budget per theme and year, in euros (whole euros; stored as cents).
BUDGETS: dict[tuple[str, int], int] = {
    ("bouwen-en-wonen", 2026): 1_850_000,
    ("bouwen-en-wonen", 2027): 2_100_000,
    ("economie-en-werken", 2026): 1_200_000,
    ("economie-en-werken", 2027): 1_350_000,
    ("bereikbaarheid", 2026): 2_400_000,
    ("bereikbaarheid", 2027): 2_600_000,
    ("energie", 2026): 1_600_000,
    ("energie", 2027): 1_900_000,
}


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
    _seed_task_sheets(session, added)
    return added


def _seed_task_sheets(session: Session, added: dict[str, int]) -> None:
    added.setdefault("opgavebladen", 0)
    added.setdefault("kernopgaven", 0)
    for (theme, year), euros in BUDGETS.items():
        sheet = session.exec(
            select(TaskSheet).where(TaskSheet.theme_slug == theme, TaskSheet.year == year)
        ).first()
        if sheet is None:
            sheet = TaskSheet(theme_slug=theme, year=year, budget_cents=euros * 100)
            session.add(sheet)
            session.flush()
            added["opgavebladen"] += 1
        known = set(session.exec(select(CoreTask.code).where(CoreTask.task_sheet_id == sheet.id)))
        for code, name in CORE_TASKS[theme]:
            if code not in known:
                session.add(CoreTask(task_sheet_id=_sheet_id(sheet), code=code, name=name))
                added["kernopgaven"] += 1
    session.flush()


def _sheet_id(sheet: TaskSheet) -> int:
    if sheet.id is None:  # flushed above; this guards our own mistakes
        raise RuntimeError("task sheet has no id yet")
    return sheet.id
