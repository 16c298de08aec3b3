"""In a real headless Chromium: every user group does its work by clicking, the pages pass axe-core.

A fractie submits, the griffie adopts the motion, the college routes it, the secretary takes it
through participation, plan, go and the frameworks check, and it is completed, once along the
"fits the frameworks" path and once along the path where each participating college decides.
Screenshots of the key pages are saved under build/screenshots/ for a reviewer.
"""

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from tests.web.helpers import PASSWORD, set_password
from workflow.models import OutboxMessage

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary on PATH (Debian: apt-get install chromium)"
)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
# As root in a container Chromium needs --no-sandbox; the rest keeps it off the (closed) network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CAST = ["fractie_sliedrecht", "griffie_sliedrecht", "college_sliedrecht", "secretaris_wonen",
        "college_dordrecht", "college_papendrecht"]
OTHERS = ["admin"]  # logs in later, for the admin pages


@pytest.fixture
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Person:
    """One user in their own browser context, working only by clicking and typing."""

    def __init__(self, browser, base, key, audit, *, width=1280):
        self.key = key
        self.base = base
        self.audit = audit
        self.context = browser.new_context(viewport={"width": width, "height": 900}, locale="nl-NL")
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.problems = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))

    def _console(self, message):
        # A form sent back with its errors is answered 422 on purpose; anything else is a problem.
        if message.type == "error" and "status of 422" not in message.text:
            self.problems.append(message.text)

    def log_in(self, email):
        page = self.page
        page.goto(self.base + "/")
        self.audit.check(page, "inloggen")
        page.get_by_label("E-mailadres").first.fill(email)
        page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.wait_for_url("**/wacht-op-mij")

    def open(self, iid, *, diagram=True):
        self.page.goto(f"{self.base}/initiatieven/{iid}")
        if diagram:
            self.wait_for_diagram()

    def wait_for_diagram(self):
        # The diagram is drawn when it comes into view.
        self.page.locator("pre.mermaid").scroll_into_view_if_needed()
        self.page.wait_for_selector("html[data-diagram]")
        assert "klaar" == self.page.get_attribute("html", "data-diagram")

    def step(self, iid, label, fill=(), *, from_inbox=False, check_name=None):
        """Opens the step from the initiative page (or the inbox), fills it, checks, confirms."""
        page = self.page
        if from_inbox:
            page.goto(self.base + "/wacht-op-mij")
            self.audit.check(page, "wacht-op-mij", shot=f"wacht-op-mij-{self.key}")
            page.locator(f'a[href^="/initiatieven/{iid}/stap/"]', has_text=label).click()
        else:
            # Drawing the diagram takes a second of CPU; a step needs only the link.
            self.open(iid, diagram=False)
            page.get_by_role("link", name=label, exact=True).click()
        page.wait_for_selector("h1")
        self.audit.check(page, check_name or f"stap-{label}")
        for how, name, value in fill:
            # Optional fields say "(niet verplicht)" after their label.
            field = page.get_by_label(re.compile("^" + re.escape(name)))
            if how == "text":
                field.fill(value)
            elif how == "select":
                field.select_option(label=value)
            elif how == "radio":
                page.get_by_role("radio", name=value, exact=True).check()
        page.get_by_role("button", name="Controleren").click()
        page.wait_for_selector("text=Klopt het onderstaande?")
        self.audit.check(page, "controleren")
        page.get_by_role("button", name="Bevestigen").click()
        try:
            page.wait_for_selector("text=Gelukt:")
        except Exception:
            # Keep what the user saw: the page explains why the step did not go through.
            page.screenshot(path=str(SCREENSHOTS / f"fout-{self.key}.png"), full_page=True)
            raise AssertionError(f"{label} ging niet door: {page.locator('main').inner_text()}") from None

    def close(self):
        self.context.close()


class Audit:
    """Runs axe-core (WCAG 2.1 A and AA) once per kind of page and saves screenshots."""

    def __init__(self):
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.seen = set()
        self.violations = {}
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def check(self, page, kind, *, shot=None):
        if shot:
            page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)
        if kind in self.seen:
            return
        self.seen.add(kind)
        results = self.axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
        if results.violations_count:
            self.violations[kind] = results.generate_report()


def timeline(page):
    return page.locator("ol.timeline h3").all_inner_texts()


def test_every_group_does_its_work_by_clicking(app, people, live_server, chromium):
    for key in CAST + OTHERS:
        set_password(app, people, key)
    audit = Audit()
    persons = {key: Person(chromium, live_server, key, audit) for key in CAST}
    try:
        _run_scenario(app, people, live_server, chromium, persons, audit)
    finally:
        for person in persons.values():
            person.close()
    assert {} == audit.violations
    problems = {k: p.problems for k, p in persons.items() if p.problems}
    assert {} == problems


def _run_scenario(app, people, base, browser, persons, audit):
    fractie, griffie, college = (persons[k] for k in ("fractie_sliedrecht", "griffie_sliedrecht",
                                                      "college_sliedrecht"))
    secretary = persons["secretaris_wonen"]
    fractie.log_in(people.emails["fractie_sliedrecht"])
    for key in ("college_sliedrecht", "secretaris_wonen", "college_dordrecht", "college_papendrecht"):
        persons[key].log_in(people.emails[key])
    _log_in_with_link(app, people, griffie, audit)

    # --- path A: fits the frameworks -------------------------------------------------------------
    a = _submit(fractie, audit, "Starterswoningen aan de Merwede", "Samen bouwen voor starters.")
    griffie.step(a, "Motie aangenomen", [("text", "Datum raadsvergadering", "2026-11-05"),
                                         ("text", "Kenmerk motie of toezegging", "M-2026-17")],
                 from_inbox=True)
    college.step(a, "Doorgeleiden naar werkgroep",
                 [("select", "Werkgroep", "Bestuurlijke werkgroep Bouwen en Wonen")], from_inbox=True)
    _take_part(secretary, a)
    secretary.step(a, "Uitwerking starten")
    _plan(secretary, a)
    secretary.step(a, "Besluit: go")
    secretary.step(a, "Past binnen de kaders")
    _agreements_and_complete(secretary, a)
    page = secretary.page
    secretary.wait_for_diagram()
    page.screenshot(path=str(SCREENSHOTS / "initiatief-afgerond-binnen-kaders.png"), full_page=True)
    assert ["Voorstel indienen", "Motie aangenomen", "Doorgeleiden naar werkgroep",
            "Deelname vastleggen (meedoen of afzien)", "Deelname vastleggen (meedoen of afzien)",
            "Uitwerking starten", "Uitwerking indienen", "Besluit: go", "Past binnen de kaders",
            "Afspraken vastgelegd", "Afronden"] == timeline(page)
    assert "Afgerond" in page.locator("dl.meta").first.inner_text()

    # --- path B: outside the frameworks, every participating college decides ---------------------
    b = _submit(fractie, audit, "Gezamenlijk warmtenet", "Restwarmte uit de haven naar de wijken.")
    griffie.step(b, "Motie aangenomen", from_inbox=True)
    college.step(b, "Doorgeleiden naar werkgroep",
                 [("select", "Werkgroep", "Bestuurlijke werkgroep Bouwen en Wonen")], from_inbox=True)
    _take_part(secretary, b)
    secretary.step(b, "Uitwerking starten")
    _plan(secretary, b)
    secretary.step(b, "Besluit: go")
    secretary.step(b, "Past niet binnen de kaders: apart besluit per gemeente",
                   [("text", "Uiterste besluitdatum voor alle deelnemers", "2027-03-01")])
    secretary.wait_for_diagram()
    secretary.page.screenshot(path=str(SCREENSHOTS / "initiatief-apart-besluit.png"), full_page=True)
    for key, decision in (("college_sliedrecht", "akkoord"), ("college_dordrecht", "akkoord"),
                          ("college_papendrecht", "niet")):
        persons[key].step(b, "Besluit van de gemeente vastleggen",
                          [("radio", "Besluit", decision), ("text", "Datum van het besluit", "2027-02-15")],
                          from_inbox=True)
    last = persons["college_papendrecht"].page
    assert "Afspraken vastleggen" in last.locator("dl.meta").first.inner_text()
    participants = last.locator("table[aria-labelledby='deelnemers-kop'] tbody").inner_text()
    assert re.search(r"Papendrecht\s+niet akkoord", participants)
    assert re.search(r"Dordrecht\s+akkoord", participants)
    _agreements_and_complete(secretary, b)
    assert ["Voorstel indienen", "Motie aangenomen", "Doorgeleiden naar werkgroep",
            "Deelname vastleggen (meedoen of afzien)", "Deelname vastleggen (meedoen of afzien)",
            "Uitwerking starten", "Uitwerking indienen", "Besluit: go",
            "Past niet binnen de kaders: apart besluit per gemeente",
            "Besluit van de gemeente vastleggen", "Besluit van de gemeente vastleggen",
            "Besluit van de gemeente vastleggen", "Alle deelnemers besloten: minstens twee gaan door",
            "Afspraken vastgelegd", "Afronden"] == timeline(secretary.page)
    whens = secretary.page.locator("ol.timeline .when").all_inner_texts()
    assert "door systeem" in whens[12]
    assert "door college_papendrecht" in whens[11]

    _other_pages(persons, audit, a, browser, base, people)


def _log_in_with_link(app, people, person, audit):
    page = person.page
    page.goto(person.base + "/inloggen")
    page.get_by_label("E-mailadres").nth(1).fill(people.emails[person.key])
    page.get_by_role("button", name="Stuur mij een inloglink").click()
    page.wait_for_selector("text=Kijk in uw e-mail")
    audit.check(page, "link-verstuurd")
    with app.db.read() as session:
        mail = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == people.emails[person.key])
                            ).one()
    # The mail points at the configured base URL; this test server listens on another port.
    link = re.search(r"http://\S+(/inloggen/link/\S+)", mail.body_text).group(1)
    page.goto(person.base + link)
    audit.check(page, "link-bevestigen")
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/wacht-op-mij")


def _submit(fractie, audit, title, summary):
    page = fractie.page
    page.goto(fractie.base + "/wacht-op-mij")
    page.get_by_role("link", name="Nieuw voorstel").click()
    # With more than one process open to the fractie, the page offers the choice first.
    page.get_by_role("link", name=re.compile("^Groeiagenda")).click()
    page.wait_for_url("**/initiatieven/nieuw?proces=groeiagenda")
    audit.check(page, "nieuw-voorstel", shot="nieuw-voorstel")
    page.get_by_role("button", name="Controleren").click()  # empty: the errors come next to the fields
    page.wait_for_selector("text=Er is iets niet goed ingevuld")
    audit.check(page, "formulier-met-fouten", shot="formulier-met-fouten")
    assert page.locator("#veld-title-fout").is_visible()
    assert page.evaluate("document.activeElement.getAttribute('role')") == "alert"
    page.get_by_label("Titel", exact=True).fill(title)
    page.get_by_label("Samenvatting", exact=True).fill(summary)
    page.get_by_label("Toelichting (niet verplicht)").fill("Aangekondigd in de raad van november.")
    page.get_by_role("button", name="Controleren").click()
    page.wait_for_selector("text=Klopt het onderstaande?")
    audit.check(page, "controleren", shot="controleren")
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_selector("text=Gelukt:")
    return int(re.search(r"/initiatieven/(\d+)", page.url).group(1))


def _take_part(secretary, iid):
    for municipality in ("Dordrecht", "Papendrecht"):
        secretary.step(iid, "Deelname vastleggen (meedoen of afzien)",
                       [("select", "Gemeente", municipality), ("radio", "Keuze", "meedoen")])


def _plan(secretary, iid):
    secretary.step(iid, "Uitwerking indienen", [
        ("text", "Aanpak", "Gezamenlijke aanbesteding met de corporaties."),
        ("text", "Begroting in hele euro's", "€ 250.000"),
        ("text", "Planning", "Start 2027, oplevering 2029."),
        ("text", "Kernopgave", "BW-2"),
        ("text", "Jaar van het opgaveblad", "2027"),
    ])


def _agreements_and_complete(secretary, iid):
    secretary.step(iid, "Afspraken vastgelegd", [("radio", "Vorm van de afspraken", "SOK"),
                                                 ("text", "Datum van de afspraken", "2027-04-01")])
    secretary.step(iid, "Afronden", [("text", "Resultaat", "Tweehonderd woningen opgeleverd.")])


def _other_pages(persons, audit, iid, browser, base, people):
    secretary = persons["secretaris_wonen"].page
    secretary.goto(base + "/initiatieven?zoek=warmtenet&werkgroep=bouwen-en-wonen")
    audit.check(secretary, "lijst", shot="lijst-gefilterd")
    assert 1 == secretary.locator("table tbody tr").count()
    secretary.goto(f"{base}/initiatieven/{iid}")
    persons["secretaris_wonen"].wait_for_diagram()
    audit.check(secretary, "initiatief", shot="initiatief")
    secretary.goto(base + "/account")
    audit.check(secretary, "account", shot="account")
    secretary.goto(base + "/api/docs")
    audit.check(secretary, "api-docs")

    # Keyboard only: the first Tab reaches the skip link, Enter moves to the content.
    secretary.goto(base + "/wacht-op-mij")
    secretary.keyboard.press("Tab")
    assert "Naar de inhoud" == secretary.evaluate("document.activeElement.textContent")
    secretary.keyboard.press("Enter")
    assert "inhoud" == secretary.evaluate("document.activeElement.id")

    admin = Person(browser, base, "admin", audit)
    try:
        admin.log_in(people.emails["admin"])
        admin.page.goto(base + "/beheer/gebruikers")
        audit.check(admin.page, "beheer-gebruikers", shot="beheer-gebruikers")
        admin.page.get_by_role("link", name="regiekamer", exact=True).click()
        audit.check(admin.page, "beheer-gebruiker")
        admin.page.goto(base + "/beheer/referentie")
        audit.check(admin.page, "beheer-referentie", shot="beheer-referentie")
    finally:
        admin.close()

    # A phone: nothing but the diagram scrolls sideways.
    phone = Person(browser, base, "telefoon", audit, width=375)
    try:
        phone.log_in(people.emails["college_sliedrecht"])
        phone.page.screenshot(path=str(SCREENSHOTS / "telefoon-wacht-op-mij.png"), full_page=True)
        phone.open(iid)
        phone.page.screenshot(path=str(SCREENSHOTS / "telefoon-initiatief.png"), full_page=True)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375
        audit.check(phone.page, "initiatief-telefoon")
    finally:
        phone.close()
