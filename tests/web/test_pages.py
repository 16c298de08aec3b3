"""The pages: inbox, lists with filters, step forms with validation and confirmation, account, admin, first run."""

import re
from datetime import timedelta

from sqlmodel import func, select

from tests import routes
from tests.web.helpers import PASSWORD, csrf_of
from workflow import services
from workflow.clock import utcnow
from workflow.models import Deadline, Event, Initiative, Recess, User, WorkingGroupMember
from workflow.web import accounts


def count_events(app, iid):
    with app.db.read() as session:
        return session.exec(select(func.count()).select_from(Event).where(Event.initiative_id == iid)).one()


def make_overdue(app, iid):
    with app.db.write() as session:
        deadline = session.exec(select(Deadline).where(Deadline.initiative_id == iid,
                                                       Deadline.status == "open")).one()
        deadline.due_at = utcnow() - timedelta(days=2)
        session.add(deadline)


class TestInbox:
    def test_it_lists_what_the_user_can_do_now_with_overdue_first(self, app, engine, people, browser_for):
        calm = routes.drive(engine, people, "with_college", title="Rustig voorstel")
        late = routes.drive(engine, people, "with_college", title="Laat voorstel")
        make_overdue(app, late)
        routes.submit(engine, people, "Nog bij de raad")  # the college cannot act on this yet
        client, _ = browser_for("college_sliedrecht")
        page = client.get("/wacht-op-mij").text
        assert "U kunt nu iets doen <span class=\"muted\">(2)</span>" in page
        assert page.index("Laat voorstel") < page.index("Rustig voorstel")
        assert "Verlopen" in page.split("Rustig voorstel")[0]
        assert f"/initiatieven/{calm}/stap/route_to_working_group" in page
        assert "Nog bij de raad" not in page

    def test_a_decided_college_is_not_asked_again(self, engine, people, browser_for):
        iid = routes.drive(engine, people, "participant_decisions")
        engine.fire(iid, "record_participant_decision", actor=people["college_dordrecht"],
                    data={"decision": "approve", "date": "2027-02-01"})
        decided, _ = browser_for("college_dordrecht")
        pending, _ = browser_for("college_papendrecht")
        assert f"/initiatieven/{iid}/stap/" not in decided.get("/wacht-op-mij").text
        assert "heeft al besloten" in decided.get(f"/initiatieven/{iid}").text
        assert f"/initiatieven/{iid}/stap/record_participant_decision" in pending.get("/wacht-op-mij").text

    def test_it_follows_every_change_although_it_keeps_copies_in_memory(self, app, engine, people, browser_for):
        iid = routes.drive(engine, people, "with_college")
        college, _ = browser_for("college_sliedrecht")
        secretary, _ = browser_for("secretaris_wonen")
        link = f"/initiatieven/{iid}/stap/"
        assert link in college.get("/wacht-op-mij").text
        assert link not in secretary.get("/wacht-op-mij").text
        engine.fire(iid, "route_to_working_group", actor=people["college_sliedrecht"],
                    data={"working_group": "bouwen-en-wonen"})
        assert link not in college.get("/wacht-op-mij").text
        assert link in secretary.get("/wacht-op-mij").text
        other = routes.drive(engine, people, "participant_decisions")
        gorinchem, _ = browser_for("college_gorinchem")
        assert f"/initiatieven/{other}/stap/" not in gorinchem.get("/wacht-op-mij").text
        engine.fire(other, "stop", actor=people["secretaris_wonen"], data={"reason": "Geen geld meer."})
        assert f"/initiatieven/{other}/stap/" not in secretary.get("/wacht-op-mij").text

    def test_it_shows_own_proposals_and_followed_ones(self, engine, people, browser_for):
        own = routes.submit(engine, people, "Eigen voorstel")
        other = engine.submit(actor=people["fractie_dordrecht"], flow="groeiagenda",
                              data={"title": "Dordts voorstel", "summary": "x"}).initiative_id
        client, token = browser_for("fractie_sliedrecht")
        following = client.get("/wacht-op-mij").text.split("Wat ik volg")[1]
        assert f'<a href="/initiatieven/{own}">Eigen voorstel</a>' in following
        assert "Dordts voorstel" not in following
        client.post(f"/initiatieven/{other}/volgen", data={"csrf_token": token, "volgen": "ja"})
        assert "Dordts voorstel" in client.get("/wacht-op-mij").text.split("Wat ik volg")[1]
        assert "U volgt dit initiatief." in client.get(f"/initiatieven/{other}").text
        client.post(f"/initiatieven/{other}/volgen", data={"csrf_token": token, "volgen": "nee"})
        assert "Dordts voorstel" not in client.get("/wacht-op-mij").text.split("Wat ik volg")[1]


class TestList:
    def test_filters_and_search(self, app, engine, people, browser_for):
        a = routes.drive(engine, people, "elaboration", title="Warmtenet")
        b = routes.drive(engine, people, "with_college", title="Fietsroute")
        make_overdue(app, b)
        client, _ = browser_for("regiekamer")

        def titles(query):
            page = client.get(f"/initiatieven?{query}")
            assert 200 == page.status_code
            return re.findall(r'<a href="/initiatieven/\d+">([^<]+)</a>', page.text)

        assert ["Fietsroute", "Warmtenet"] == titles("")
        assert ["Warmtenet"] == titles("status=elaboration")
        assert ["Warmtenet"] == titles("werkgroep=bouwen-en-wonen")
        assert ["Warmtenet"] == titles("thema=bouwen-en-wonen")
        assert ["Warmtenet"] == titles("gemeente=papendrecht")
        assert ["Fietsroute"] == titles("verlopen=ja")
        assert ["Fietsroute"] == titles("zoek=fiets")
        assert [] == titles("zoek=fiets&status=elaboration")
        page = client.get("/initiatieven?zoek=fiets").text
        assert "1 initiatief gevonden met deze filters" in page
        assert 'value="fiets"' in page
        assert f'<a href="/initiatieven/{a}">Warmtenet</a>' in client.get("/initiatieven?status=elaboration").text

    def test_pages_of_25(self, engine, people, browser_for):
        for n in range(27):
            routes.submit(engine, people, f"Voorstel {n:02d}")
        client, _ = browser_for("regiekamer")
        first = client.get("/initiatieven").text
        assert "Pagina 1 van 2" in first
        assert 'href="/initiatieven?pagina=2"' in first
        second = client.get("/initiatieven?pagina=2").text
        assert ["Voorstel 01", "Voorstel 00"] == re.findall(r'<a href="/initiatieven/\d+">([^<]+)</a>', second)


class TestStepForms:
    def test_validation_messages_sit_next_to_the_fields_and_nothing_is_written(
        self, app, engine, people, browser_for
    ):
        iid = routes.drive(engine, people, "elaboration")
        client, token = browser_for("secretaris_wonen")
        form = client.get(f"/initiatieven/{iid}/stap/submit_plan")
        assert 200 == form.status_code
        for label in ("Aanpak", "Begroting in hele euro&#39;s", "Planning", "Toelichting"):
            assert f">{label}" in form.text
        before = count_events(app, iid)
        response = client.post(f"/initiatieven/{iid}/stap/submit_plan", data={
            "csrf_token": token, "fase": "controleren", "versie": "6",
            "approach": "", "budget": "heel veel", "planning": "Q1"})
        assert 422 == response.status_code
        text = response.text
        assert "Er is iets niet goed ingevuld" in text
        budget = text[text.index('id="veld-budget-fout"'):]
        assert "moet een bedrag in hele euro" in budget[:200]
        assert 'id="veld-approach" name="approach" required aria-required="true" aria-invalid="true"' in text
        assert 'value="heel veel"' in text  # what was typed stays
        assert before == count_events(app, iid)

    def test_check_then_change_then_confirm(self, app, engine, people, browser_for):
        iid = routes.drive(engine, people, "elaboration")
        client, token = browser_for("secretaris_wonen")
        data = {"csrf_token": token, "versie": "6", "approach": "Samen bouwen",
                "budget": "€ 250.000", "planning": "2027", "toelichting": "Besproken op 3 maart."}
        check = client.post(f"/initiatieven/{iid}/stap/submit_plan", data={**data, "fase": "controleren"})
        assert 200 == check.status_code
        assert "Controleren: Uitwerking indienen" in check.text
        assert "Besproken op 3 maart." in check.text
        assert count_events(app, iid) == 6
        change = client.post(f"/initiatieven/{iid}/stap/submit_plan", data={**data, "fase": "wijzigen"})
        assert 'value="€ 250.000"' in change.text
        done = client.post(f"/initiatieven/{iid}/stap/submit_plan", data={**data, "fase": "bevestigen"})
        assert (303, f"/initiatieven/{iid}?gezet=submit_plan") == (done.status_code, done.headers["location"])
        page = client.get(done.headers["location"]).text
        assert "Gelukt: ‘Uitwerking indienen’ is vastgelegd." in page
        assert "Besproken op 3 maart." in page
        with app.db.read() as session:
            assert 250000 == session.get(Initiative, iid).data["plan"]["budget"]

    def test_a_form_on_a_changed_initiative_is_refused_with_409(self, app, engine, people, browser_for):
        iid = routes.drive(engine, people, "tabled")
        client, token = browser_for("secretaris_wonen")
        engine.fire(iid, "record_participation", actor=people["secretaris_wonen"],
                    data={"municipality": "dordrecht", "choice": "join"})
        response = client.post(f"/initiatieven/{iid}/stap/record_participation", data={
            "csrf_token": token, "fase": "bevestigen", "versie": "3",
            "municipality": "papendrecht", "choice": "join"})
        assert 409 == response.status_code
        assert "intussen gewijzigd" in response.text
        assert 'value="papendrecht" selected' in response.text
        assert 4 == count_events(app, iid)

    def test_radio_choices_have_dutch_labels_and_steps_without_input_just_confirm(
        self, engine, people, browser_for
    ):
        iid = routes.drive(engine, people, "tabled")
        client, token = browser_for("secretaris_wonen")
        form = client.get(f"/initiatieven/{iid}/stap/record_participation").text
        assert "<legend>Keuze</legend>" in form
        assert '>meedoen</label>' in form and '>afzien</label>' in form
        assert '<option value="hoeksche-waard">Hoeksche Waard</option>' in form
        routes_go = routes.drive(engine, people, "go_decision")
        check = client.post(f"/initiatieven/{routes_go}/stap/decide_go",
                            data={"csrf_token": token, "fase": "controleren", "versie": "7"})
        assert "Deze stap vraagt geen gegevens." in check.text

    def test_a_step_that_is_not_offered_is_403_and_a_blocked_one_409(self, engine, people, browser_for):
        iid = routes.drive(engine, people, "tabled")
        client, _ = browser_for("secretaris_wonen")
        blocked = client.get(f"/initiatieven/{iid}/stap/start_elaboration")
        assert 409 == blocked.status_code
        assert "minstens twee gemeenten" in blocked.text
        assert 403 == client.get(f"/initiatieven/{iid}/stap/adopt_motion").status_code
        assert 404 == client.get("/initiatieven/999/stap/adopt_motion").status_code

    def test_a_faction_member_submits_a_proposal_through_the_pages(self, app, people, browser_for):
        client, token = browser_for("fractie_sliedrecht")
        form = client.get("/initiatieven/nieuw")
        assert "U dient in namens: <strong>Sliedrecht, fractie CDA</strong>." in form.text
        data = {"csrf_token": token, "proces": "groeiagenda", "title": "Groen schoolplein",
                "summary": "Meer groen.\nMinder tegels."}
        check = client.post("/initiatieven/nieuw", data={**data, "fase": "controleren"})
        assert "Controleren: Nieuw voorstel indienen" in check.text
        done = client.post("/initiatieven/nieuw", data={**data, "fase": "bevestigen"})
        assert 303 == done.status_code
        iid = int(re.search(r"/initiatieven/(\d+)", done.headers["location"]).group(1))
        with app.db.read() as session:
            row = session.get(Initiative, iid)
        assert ("Groen schoolplein", "Meer groen.\nMinder tegels.", "cda") == (row.title, row.summary, row.faction)

    def test_with_two_faction_roles_the_user_chooses_on_whose_behalf(self, app, people, browser_for):
        people.add("dubbel", "fractie:sliedrecht:cda", "fractie:dordrecht:d66")
        client, token = browser_for("dubbel")
        form = client.get("/initiatieven/nieuw").text
        assert '<option value="dordrecht:d66">Dordrecht, fractie D66</option>' in form
        data = {"csrf_token": token, "proces": "groeiagenda", "title": "Twee petten", "summary": "x"}
        missing = client.post("/initiatieven/nieuw", data={**data, "fase": "controleren"})
        assert 422 == missing.status_code
        assert "kies namens wie u indient" in missing.text
        done = client.post("/initiatieven/nieuw", data={**data, "fase": "bevestigen", "namens": "dordrecht:d66"})
        assert 303 == done.status_code
        with app.db.read() as session:
            row = session.exec(select(Initiative).where(Initiative.title == "Twee petten")).one()
        assert ("dordrecht", "d66") == (row.municipality, row.faction)

    def test_only_faction_members_may_open_the_new_proposal_page(self, people, browser_for):
        client, _ = browser_for("secretaris_wonen")
        assert 403 == client.get("/initiatieven/nieuw").status_code
        assert "Nieuw voorstel" not in client.get("/wacht-op-mij").text

    def test_a_college_registers_an_initiative_from_society(self, people, browser_for):
        client, _ = browser_for("college_sliedrecht")
        form = client.get("/initiatieven/nieuw")
        assert 200 == form.status_code
        assert "Initiatief uit de samenleving: via het college" in form.text
        assert "E-mailadres van de initiatiefnemer" in form.text


class TestInitiativePage:
    def test_it_shows_status_diagram_participants_deadlines_and_the_timeline(self, engine, people, browser_for):
        iid = routes.drive(engine, people, "participant_decisions")
        engine.fire(iid, "record_participant_decision", actor=people["college_dordrecht"],
                    data={"decision": "approve", "date": "2027-02-01", "council_decision": "RB-7"})
        client, _ = browser_for("regiekamer")
        page = client.get(f"/initiatieven/{iid}").text
        assert "Apart besluit deelnemers" in page
        assert '<pre class="mermaid"' in page
        assert "class participant_decisions current" in page
        assert '<li aria-current="step"><mark>Apart besluit deelnemers</mark> (huidige status)</li>' in page
        assert "1 februari 2027 – RB-7" in page
        assert "Besluit van elke deelnemende gemeente" in page and "1 maart 2027" in page
        timeline = page.split('id="tijdlijn-kop"')[1]
        expected = ["Voorstel indienen", "Motie aangenomen", "Doorgeleiden naar werkgroep",
                    "Deelname vastleggen (meedoen of afzien)", "Deelname vastleggen (meedoen of afzien)",
                    "Uitwerking starten", "Uitwerking indienen", "Besluit: go",
                    "Past niet binnen de kaders: apart besluit per gemeente",
                    "Besluit van de gemeente vastleggen"]
        assert expected == re.findall(r"<h3>([^<]+)</h3>", timeline)
        assert "door college_dordrecht" in timeline
        assert "<dt>Besluit</dt><dd class=\"summary-text\">akkoord</dd>" in timeline

    def test_its_steps_follow_every_change_although_it_keeps_copies_in_memory(
        self, engine, people, browser_for
    ):
        iid = routes.drive(engine, people, "participant_decisions")
        college, _ = browser_for("college_dordrecht")
        step = f"/initiatieven/{iid}/stap/record_participant_decision"
        assert step in college.get(f"/initiatieven/{iid}").text
        engine.fire(iid, "record_participant_decision", actor=people["college_dordrecht"],
                    data={"decision": "approve", "date": "2027-02-01"})
        page = college.get(f"/initiatieven/{iid}").text
        assert step not in page and "heeft al besloten" in page

    def test_unknown_initiative_is_a_dutch_404_page(self, people, browser_for):
        client, _ = browser_for("regiekamer")
        response = client.get("/initiatieven/12345")
        assert 404 == response.status_code
        assert "Initiatief 12345 bestaat niet." in response.text
        assert 404 == client.get("/bestaat-niet").status_code


class TestAccount:
    def test_change_password_with_checks(self, app, people, browser_for, client):
        user, token = browser_for("regiekamer")
        wrong = user.post("/account/wachtwoord", data={"csrf_token": token, "current_password": "fout",
                                                        "new_password": "nieuw wachtwoord 1",
                                                        "new_password_repeat": "nieuw wachtwoord 1"})
        assert (422, True) == (wrong.status_code, "Het huidige wachtwoord klopt niet." in wrong.text)
        short = user.post("/account/wachtwoord", data={"csrf_token": token, "current_password": PASSWORD,
                                                        "new_password": "kort", "new_password_repeat": "kort"})
        assert (422, True) == (short.status_code, "minstens 12 tekens" in short.text)
        ok = user.post("/account/wachtwoord", data={"csrf_token": token, "current_password": PASSWORD,
                                                     "new_password": "nieuw wachtwoord 1",
                                                     "new_password_repeat": "nieuw wachtwoord 1"})
        assert (303, "/account?opgeslagen=wachtwoord") == (ok.status_code, ok.headers["location"])
        with app.db.read() as session:
            stored = session.get(User, people["regiekamer"].user_id).password_hash
        assert stored.startswith("$argon2id$")

    def test_email_preference_is_saved(self, app, people, browser_for):
        user, token = browser_for("regiekamer")
        user.post("/account/meldingen", data={"csrf_token": token, "email_notifications": "nee"})
        with app.db.read() as session:
            assert session.get(User, people["regiekamer"].user_id).email_notifications is False
        assert 'id="meldingen-nee" name="email_notifications" value="nee" checked' in user.get("/account").text

    def test_a_token_is_shown_once_and_works(self, client, people, browser_for):
        user, token = browser_for("regiekamer")
        created = user.post("/account/tokens", data={"csrf_token": token, "name": "Rapportage"})
        new = re.search(r'<code class="token" id="nieuw-token">(ini_[^<]+)</code>', created.text).group(1)
        assert 200 == client.get("/api/initiatives", headers={"Authorization": f"Bearer {new}"}).status_code
        again = user.get("/account").text
        assert new not in again
        assert new[:10] in again and "Rapportage" in again
        empty = user.post("/account/tokens", data={"csrf_token": token, "name": "  "})
        assert 422 == empty.status_code


class TestAdmin:
    def test_only_admins(self, people, browser_for):
        client, _ = browser_for("regiekamer")
        assert 403 == client.get("/beheer/gebruikers").status_code
        assert 403 == client.get("/beheer/referentie").status_code

    def test_add_and_edit_a_user_with_checked_roles(self, app, people, browser_for):
        admin, token = browser_for("admin")
        bad = admin.post("/beheer/gebruikers", data={"csrf_token": token, "name": "Nieuw", "email": "n@x.nl",
                                                      "roles": "college:atlantis"})
        assert 422 == bad.status_code
        assert "Onbekende gemeente &#39;atlantis&#39;" in bad.text
        ok = admin.post("/beheer/gebruikers", data={"csrf_token": token, "name": "Nieuw", "email": "n@x.nl",
                                                     "roles": "college:sliedrecht\ngriffie:sliedrecht"})
        assert 303 == ok.status_code
        with app.db.read() as session:
            uid = session.exec(select(User).where(User.email == "n@x.nl")).one().id
        assert "college:sliedrecht" in admin.get(f"/beheer/gebruikers/{uid}").text
        saved = admin.post(f"/beheer/gebruikers/{uid}", data={"csrf_token": token, "name": "Nieuw Genoemd",
                                                               "email": "n@x.nl", "roles": "regiekamer"})
        assert 303 == saved.status_code
        assert ["regiekamer"] == next(u for u in services.list_users(app.db, app.registry)
                                      if u["id"] == uid)["roles"]
        with app.db.read() as session:
            assert session.get(User, uid).active is False  # the box was not ticked

    def test_deactivating_a_user_ends_their_sessions(self, app, people, browser_for):
        admin, token = browser_for("admin")
        victim, _ = browser_for("regiekamer")
        uid = people["regiekamer"].user_id
        admin.post(f"/beheer/gebruikers/{uid}", data={"csrf_token": token, "name": "regiekamer",
                                                       "email": people.emails["regiekamer"],
                                                       "roles": "regiekamer"})
        assert 303 == victim.get("/wacht-op-mij").status_code

    def test_reference_data(self, app, people, browser_for):
        admin, token = browser_for("admin")
        added = admin.post("/beheer/referentie/gemeenten", data={
            "csrf_token": token, "slug": "leerdam", "name": "Leerdam", "inhabitants": "21000",
            "region": "Vijfheerenlanden", "bloc": "polder"})
        assert 303 == added.status_code
        assert "Leerdam" in admin.get("/beheer/referentie").text
        members = admin.post("/beheer/referentie/werkgroepen/energie/leden",
                             data={"csrf_token": token, "leden": ["leerdam", "dordrecht"]})
        assert 303 == members.status_code
        with app.db.read() as session:
            rows = session.exec(select(WorkingGroupMember).where(
                WorkingGroupMember.working_group_slug == "energie")).all()
        assert {"dordrecht", "leerdam"} == {r.municipality_slug for r in rows}
        wrong = admin.post("/beheer/referentie/recessen", data={
            "csrf_token": token, "recess_name": "Zomer", "start": "2027-08-20", "end": "2027-07-01"})
        assert (422, True) == (wrong.status_code, "ligt voor de eerste dag" in wrong.text)
        admin.post("/beheer/referentie/recessen", data={
            "csrf_token": token, "recess_name": "Zomer", "start": "2027-07-10", "end": "2027-08-20"})
        with app.db.read() as session:
            recess = session.exec(select(Recess)).one()
        assert "Zomer" == recess.name
        admin.post(f"/beheer/referentie/recessen/{recess.id}/verwijderen", data={"csrf_token": token})
        with app.db.read() as session:
            assert session.exec(select(Recess)).first() is None


class TestFirstRun:
    def test_the_setup_link_creates_the_first_admin_once(self, app, client):
        assert accounts.needs_first_admin(app.db)
        login = client.get("/inloggen").text
        assert "Er is nog geen beheerder." in login
        token = accounts.make_setup_link(app.db)
        form = client.get(f"/eerste-keer/{token}")
        assert 200 == form.status_code
        data = {"csrf_token": csrf_of(form.text), "name": "Beheerder", "email": "beheer@example.nl",
                "password": "een lang wachtwoord", "password_repeat": "een ander wachtwoord"}
        mismatch = client.post(f"/eerste-keer/{token}", data=data)
        assert (422, True) == (mismatch.status_code, "niet gelijk" in mismatch.text)
        done = client.post(f"/eerste-keer/{token}", data={**data, "password_repeat": "een lang wachtwoord"})
        assert (303, "/beheer/gebruikers") == (done.status_code, done.headers["location"])
        assert 200 == client.get("/beheer/gebruikers").status_code
        assert not accounts.needs_first_admin(app.db)
        assert 410 == client.get(f"/eerste-keer/{token}").status_code

    def test_a_wrong_setup_token_does_nothing(self, app, client):
        assert 410 == client.get("/eerste-keer/verzonnen").status_code
        assert accounts.needs_first_admin(app.db)


def test_api_docs_page_lists_every_endpoint(people, browser_for):
    client, _ = browser_for("regiekamer")
    page = client.get("/api/docs").text
    for line in ("POST /api/initiatives", "GET /api/initiatives/{initiative_id}/events",
                 "POST /api/initiatives/{initiative_id}/transitions", "GET /api/flows/{name}/diagram"):
        assert line in page
    assert "Idempotency-Key" in page
