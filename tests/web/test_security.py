"""Security of pages and API: CSRF, scoped access, escaping, cookie flags, rate limits, tokens."""

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from tests import routes
from tests.web.helpers import PASSWORD, csrf_of, set_password
from workflow.models import Event, OutboxMessage, WebSession
from workflow.web import accounts

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def events(app, iid):
    with app.db.read() as session:
        return session.exec(select(func.count()).select_from(Event).where(Event.initiative_id == iid)).one()


class TestCsrf:
    def test_a_step_posted_without_the_token_is_refused_and_nothing_written(
        self, app, engine, people, browser_for
    ):
        iid = routes.submit(engine, people)
        client, _token = browser_for("griffie_sliedrecht")
        data = {"fase": "bevestigen", "versie": "1"}
        response = client.post(f"/initiatieven/{iid}/stap/adopt_motion", data=data)
        assert 403 == response.status_code
        assert "Het formulier is verlopen" in response.text
        forged = client.post(f"/initiatieven/{iid}/stap/adopt_motion", data={**data, "csrf_token": "nep"})
        assert 403 == forged.status_code
        assert 1 == events(app, iid)

    def test_the_same_post_with_the_token_works(self, app, engine, people, browser_for):
        iid = routes.submit(engine, people)
        client, token = browser_for("griffie_sliedrecht")
        response = client.post(f"/initiatieven/{iid}/stap/adopt_motion",
                               data={"fase": "bevestigen", "versie": "1", "csrf_token": token})
        assert (303, f"/initiatieven/{iid}?gezet=adopt_motion") == (
            response.status_code, response.headers["location"])
        assert 2 == events(app, iid)

    def test_the_login_form_needs_its_token(self, client, app, people):
        set_password(app, people, "regiekamer")
        response = client.post("/inloggen", data={"email": people.emails["regiekamer"], "password": PASSWORD})
        assert 403 == response.status_code
        assert "initiatief_sessie" not in response.cookies

    @pytest.mark.parametrize("path", ["/uitloggen", "/account/tokens", "/account/meldingen",
                                      "/beheer/gebruikers", "/beheer/referentie/recessen"])
    def test_every_form_post_checks_the_token(self, people, browser_for, path):
        client, _token = browser_for("admin")
        assert 403 == client.post(path, data={"name": "x"}).status_code

    def test_an_api_write_with_a_session_cookie_needs_the_csrf_header(self, engine, people, browser_for):
        iid = routes.submit(engine, people)
        client, token = browser_for("griffie_sliedrecht")
        path = f"/api/initiatives/{iid}/transitions"
        refused = client.post(path, json={"trigger": "adopt_motion"})
        assert (403, "csrf_ongeldig") == (refused.status_code, refused.json()["code"])
        accepted = client.post(path, json={"trigger": "adopt_motion"}, headers={"X-CSRF-Token": token})
        assert 200 == accepted.status_code


class TestOtherMunicipality:
    def test_another_college_sees_no_forms_and_cannot_fire(self, app, engine, people, browser_for, token_for):
        iid = routes.drive(engine, people, "with_college")
        client, token = browser_for("college_dordrecht")
        page = client.get(f"/initiatieven/{iid}")
        assert 200 == page.status_code
        assert "/stap/" not in page.text
        assert "U kunt bij dit initiatief nu geen stap zetten." in page.text
        form = client.get(f"/initiatieven/{iid}/stap/route_to_working_group")
        assert 403 == form.status_code
        assert "<form" not in form.text.split("<main", 1)[1]
        posted = client.post(f"/initiatieven/{iid}/stap/route_to_working_group",
                             data={"csrf_token": token, "fase": "bevestigen", "versie": "2",
                                   "working_group": "bouwen-en-wonen"})
        assert 403 == posted.status_code
        api = client.post(f"/api/initiatives/{iid}/transitions",
                          json={"trigger": "route_to_working_group", "data": {"working_group": "energie"}},
                          headers={"Authorization": f"Bearer {token_for('college_dordrecht')}"})
        assert (403, "niet_toegestaan") == (api.status_code, api.json()["code"])
        inbox = client.get("/wacht-op-mij")
        assert f"/initiatieven/{iid}/stap/" not in inbox.text
        assert 2 == events(app, iid)

    def test_the_own_college_does_see_the_forms(self, engine, people, browser_for):
        iid = routes.drive(engine, people, "with_college")
        client, _token = browser_for("college_sliedrecht")
        page = client.get(f"/initiatieven/{iid}")
        assert f"/initiatieven/{iid}/stap/route_to_working_group" in page.text
        assert 200 == client.get(f"/initiatieven/{iid}/stap/route_to_working_group").status_code
        assert f"/initiatieven/{iid}/stap/route_to_working_group" in client.get("/wacht-op-mij").text


class TestEscaping:
    def test_stored_script_in_title_summary_and_comment_is_escaped_on_every_page(
        self, app, engine, people, browser_for
    ):
        iid = engine.submit(actor=people["fractie_sliedrecht"], flow="groeiagenda",
                            data={"title": "Plan " + XSS, "summary": XSS}, comment=XSS).initiative_id
        engine.fire(iid, "adopt_motion", actor=people["griffie_sliedrecht"],
                    data={"reference": XSS}, comment=XSS)
        engine.fire(iid, "route_to_working_group", actor=people["college_sliedrecht"],
                    data={"working_group": "bouwen-en-wonen"}, comment=XSS)
        people.add("evil", "regiekamer", email="evil@example.nl")
        secretary, token = browser_for("secretaris_wonen")
        fractie, _ = browser_for("fractie_sliedrecht")
        secretary.post(f"/initiatieven/{iid}/volgen", data={"csrf_token": token, "volgen": "ja"})
        admin, admin_token = browser_for("admin")
        admin.post("/beheer/gebruikers", data={"csrf_token": admin_token, "name": XSS,
                                                "email": "xss@example.nl", "roles": "regiekamer"})
        form = {"csrf_token": token, "fase": "controleren", "versie": "3",
                "municipality": "zwijndrecht", "choice": "join", "toelichting": XSS}
        pages = [
            secretary.get(f"/initiatieven/{iid}"),
            secretary.get("/initiatieven"),
            secretary.get("/initiatieven?zoek=plan"),
            secretary.get("/wacht-op-mij"),
            secretary.get(f"/initiatieven/{iid}/stap/record_participation"),
            secretary.post(f"/initiatieven/{iid}/stap/record_participation", data=form),
            secretary.post(f"/initiatieven/{iid}/stap/record_participation",
                           data={**form, "municipality": "", "choice": ""}),
            fractie.get("/wacht-op-mij"),
            admin.get("/beheer/gebruikers"),
        ]
        for response in pages:
            assert response.status_code in (200, 422), response.url
            assert "<script>alert" not in response.text, response.url
            assert "<img src=x" not in response.text, response.url
        assert html.escape(XSS, quote=False) in pages[0].text.replace("&#34;", '"').replace("&#39;", "'")
        assert pages[0].text.count("&lt;script&gt;") >= 4  # title, summary, comments, reference


class TestCookies:
    def test_session_cookie_is_httponly_samesite_and_secure_over_https(self, web, app, people):
        set_password(app, people, "regiekamer")
        with TestClient(web, base_url="https://testserver", follow_redirects=False) as client:
            page = client.get("/inloggen")
            response = client.post("/inloggen", data={"email": people.emails["regiekamer"],
                                                       "password": PASSWORD, "csrf_token": csrf_of(page.text)})
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("initiatief_sessie="))
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags

    def test_over_http_the_cookie_is_not_secure_but_still_httponly(self, client, app, people):
        set_password(app, people, "regiekamer")
        page = client.get("/inloggen")
        anon = next(h for h in page.headers.get_list("set-cookie") if h.startswith("initiatief_csrf="))
        assert "httponly" in anon.lower()
        response = client.post("/inloggen", data={"email": people.emails["regiekamer"], "password": PASSWORD,
                                                   "csrf_token": csrf_of(page.text)})
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("initiatief_sessie="))
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=lax"} <= flags
        assert "secure" not in flags

    def test_logout_ends_the_session_on_the_server(self, app, people, browser_for):
        client, token = browser_for("regiekamer")
        old_cookie = client.cookies.get("initiatief_sessie")
        response = client.post("/uitloggen", data={"csrf_token": token})
        assert (303, "/inloggen?uitgelogd=1") == (response.status_code, response.headers["location"])
        with app.db.read() as session:
            assert 0 == session.exec(select(func.count()).select_from(WebSession)).one()
        client.cookies.set("initiatief_sessie", old_cookie)
        assert 303 == client.get("/wacht-op-mij").status_code

    def test_security_headers(self, client):
        response = client.get("/inloggen")
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert ("nosniff", "DENY", "no-store") == (
            response.headers["x-content-type-options"], response.headers["x-frame-options"],
            response.headers["cache-control"])


class TestLogin:
    def login(self, client, email, password):
        page = client.get("/inloggen")
        return client.post("/inloggen", data={"email": email, "password": password,
                                               "csrf_token": csrf_of(page.text)})

    def test_five_wrong_passwords_lock_the_address_even_for_the_right_one(self, client, app, people):
        set_password(app, people, "regiekamer")
        email = people.emails["regiekamer"]
        statuses = [self.login(client, email, "fout wachtwoord!").status_code for _ in range(5)]
        assert [401] * 5 == statuses
        locked = self.login(client, email, PASSWORD)
        assert 429 == locked.status_code
        assert "Te veel pogingen" in locked.text
        assert "initiatief_sessie" not in locked.cookies
        set_password(app, people, "admin")
        assert 303 == self.login(client, people.emails["admin"], PASSWORD).status_code

    def test_a_wrong_password_says_so_in_dutch_without_telling_which_part(self, client, app, people):
        set_password(app, people, "regiekamer")
        response = self.login(client, people.emails["regiekamer"], "niet goed genoeg")
        assert 401 == response.status_code
        assert "Het e-mailadres of het wachtwoord klopt niet." in response.text
        unknown = self.login(client, "niemand@example.nl", "niet goed genoeg")
        assert "Het e-mailadres of het wachtwoord klopt niet." in unknown.text

    def test_an_inactive_user_cannot_log_in(self, client, app, people):
        from workflow.models import User

        set_password(app, people, "regiekamer")
        with app.db.write() as session:
            user = session.get(User, people["regiekamer"].user_id)
            user.active = False
            session.add(user)
        assert 401 == self.login(client, people.emails["regiekamer"], PASSWORD).status_code

    def test_the_next_page_after_login_stays_on_this_site(self, client, app, people):
        set_password(app, people, "regiekamer")
        page = client.get("/inloggen?volgende=//kwaad.example/x")
        response = client.post("/inloggen", data={"email": people.emails["regiekamer"], "password": PASSWORD,
                                                   "csrf_token": csrf_of(page.text),
                                                   "volgende": "//kwaad.example/x"})
        assert "/wacht-op-mij" == response.headers["location"]

    def test_a_login_link_is_mailed_through_the_outbox_and_works_once(self, client, app, people):
        page = client.get("/inloggen")
        sent = client.post("/inloggen/link", data={"link_email": people.emails["college_dordrecht"],
                                                    "csrf_token": csrf_of(page.text)})
        assert 200 == sent.status_code
        assert "Als <strong>college_dordrecht@example.nl</strong> bij ons bekend is" in sent.text
        with app.db.read() as session:
            mail = session.exec(select(OutboxMessage).where(OutboxMessage.template == "inloglink")).one()
        assert ("college_dordrecht@example.nl", "Uw inloglink voor Initiatief") == (mail.recipient, mail.subject)
        link = re.search(r"http://\S+/inloggen/link/(\S+)", mail.body_text)
        assert link is not None
        assert link.group(0) in mail.body_html
        path = f"/inloggen/link/{link.group(1)}"
        confirm = client.get(path)
        assert 200 == confirm.status_code
        used = client.post(path, data={"csrf_token": csrf_of(confirm.text)})
        assert (303, "/wacht-op-mij") == (used.status_code, used.headers["location"])
        assert "Goedendag, college_dordrecht." in client.get("/wacht-op-mij").text
        again = client.post(path, data={"csrf_token": csrf_of(confirm.text)})
        assert 410 == again.status_code

    def test_an_unknown_address_gets_the_same_answer_and_no_mail(self, client, app, people):
        page = client.get("/inloggen")
        sent = client.post("/inloggen/link", data={"link_email": "niemand@example.nl",
                                                    "csrf_token": csrf_of(page.text)})
        assert 200 == sent.status_code
        assert "bij ons bekend is" in sent.text
        with app.db.read() as session:
            assert 0 == session.exec(select(func.count()).select_from(OutboxMessage)).one()

    def test_link_requests_are_rate_limited(self, client, app, people):
        page = client.get("/inloggen")
        data = {"link_email": people.emails["regiekamer"], "csrf_token": csrf_of(page.text)}
        statuses = [client.post("/inloggen/link", data=data).status_code for _ in range(4)]
        assert [200, 200, 200, 429] == statuses


class TestTokens:
    def test_a_revoked_token_is_refused(self, client, app, people, token_for):
        token = token_for("regiekamer")
        headers = {"Authorization": f"Bearer {token}"}
        assert 200 == client.get("/api/initiatives", headers=headers).status_code
        row_id = accounts.list_api_tokens(app.db, people["regiekamer"].user_id)[0]["id"]
        accounts.revoke_api_token(app.db, row_id)
        response = client.get("/api/initiatives", headers=headers)
        assert (401, "token_ingetrokken") == (response.status_code, response.json()["code"])

    def test_a_token_has_exactly_its_users_rights(self, client, engine, people, token_for):
        iid = routes.submit(engine, people)
        headers = {"Authorization": f"Bearer {token_for('regiekamer')}"}
        response = client.post(f"/api/initiatives/{iid}/transitions", json={"trigger": "adopt_motion"},
                               headers=headers)
        assert (403, "niet_toegestaan") == (response.status_code, response.json()["code"])

    def test_only_the_owner_or_an_admin_may_revoke_a_token(self, app, people, browser_for, token_for):
        token_for("regiekamer")
        row_id = accounts.list_api_tokens(app.db, people["regiekamer"].user_id)[0]["id"]
        other, other_token = browser_for("fractie_dordrecht")
        refused = other.post(f"/account/tokens/{row_id}/intrekken", data={"csrf_token": other_token})
        assert 403 == refused.status_code
        admin, admin_token = browser_for("admin")
        done = admin.post(f"/account/tokens/{row_id}/intrekken", data={"csrf_token": admin_token})
        assert 303 == done.status_code
        assert accounts.list_api_tokens(app.db, people["regiekamer"].user_id)[0]["revoked_at"] is not None

    def test_the_database_keeps_no_token_in_clear(self, app, people, token_for):
        from workflow.models import ApiToken

        token = token_for("regiekamer")
        with app.db.read() as session:
            row = session.exec(select(ApiToken)).one()
        assert token not in (row.token_hash, row.prefix)
        assert token.startswith(row.prefix)


def test_pages_need_a_login(client):
    response = client.get("/initiatieven?status=tabled")
    assert (303, "/inloggen?volgende=/initiatieven%3Fstatus%3Dtabled") == (
        response.status_code, response.headers["location"])

