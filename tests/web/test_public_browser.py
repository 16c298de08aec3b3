"""In headless Chromium: the public pages and the report pages pass axe-core (WCAG 2.1 A and AA)."""

import pytest

from tests import monitor_history
from tests.web.helpers import PASSWORD, set_password
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, WCAG_21_AA

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary on PATH (Debian: apt-get install chromium)"
)


@pytest.fixture
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def audit(page, name):
    from axe_playwright_python.sync_playwright import Axe

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    return results.generate_report() if results.violations_count else None


def test_public_and_report_pages_have_no_wcag_violations(app, people, live_server, chromium):
    history = monitor_history.build(app)
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    violations = {}
    public_pages = {
        "openbaar-regio": "/openbaar",
        "openbaar-gemeente": "/openbaar/gemeente/sliedrecht",
        "openbaar-initiatief": f"/openbaar/initiatief/{history.ids['A']}",
    }
    for name, path in public_pages.items():
        page.goto(live_server + path)
        assert monitor_history.PERSON not in page.content()
        violations[name] = audit(page, name)

    set_password(app, people, "regiekamer")
    page.goto(live_server + "/inloggen")
    page.get_by_label("E-mailadres").first.fill(people.emails["regiekamer"])
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/wacht-op-mij")
    for name, path in {
        "monitor": "/monitor?jaar=2026",
        "raadslijst": "/raadslijst?gemeente=sliedrecht",
        "agenda-link": "/account/agenda",
        "openbaarheid": f"/initiatieven/{history.ids['A']}/openbaarheid",
    }.items():
        page.goto(live_server + path)
        violations[name] = audit(page, name)
    context.close()
    assert {} == {k: v for k, v in violations.items() if v}
    assert [] == problems
