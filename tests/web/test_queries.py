"""The read queries behind the pages: the inbox in pages and by urgency, search, filters, the flow choice."""

import re
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from tests import routes
from workflow.clock import utcnow
from workflow.models import Deadline, Initiative
from workflow.web import listcounts, queries


def set_due(app, iid, days):
    with app.db.write() as session:
        deadline = session.exec(select(Deadline).where(Deadline.initiative_id == iid,
                                                       Deadline.status == "open")).one()
        deadline.due_at = utcnow() + timedelta(days=days)
        session.add(deadline)


def titles(html):
    return re.findall(r'<a href="/initiatieven/\d+">([^<]+)</a>', html)


class TestInboxPages:
    def test_the_most_urgent_come_first_over_pages_of_25(self, app, engine, people):
        ids = [routes.drive(engine, people, "with_college", title=f"Voorstel {n:02d}") for n in range(27)]
        for n, iid in enumerate(ids):
            set_due(app, iid, 30 - n)  # the newest is the most urgent
        set_due(app, ids[3], -2)  # one has passed its due date: it leads

        first = queries.inbox(engine, people["college_sliedrecht"])
        second = queries.inbox(engine, people["college_sliedrecht"], page=2)

        expected = [ids[3], *[i for i in reversed(ids) if i != ids[3]]]
        assert (27, 2, 25) == (first.total, first.pages, len(first.actionable))
        assert expected[:25] == [r.id for r in first.actionable]
        assert expected[25:] == [r.id for r in second.actionable]
        assert first.actionable[0].overdue
        assert (2, 2) == (second.page, second.pages)

    def test_a_page_past_the_last_shows_the_last(self, engine, people):
        iid = routes.drive(engine, people, "with_college")
        found = queries.inbox(engine, people["college_sliedrecht"], page=9)
        assert (1, [iid]) == (found.page, [r.id for r in found.actionable])

    def test_the_page_links_in_the_inbox(self, engine, people, browser_for):
        for n in range(26):
            routes.drive(engine, people, "with_college", title=f"Voorstel {n:02d}")
        client, _ = browser_for("college_sliedrecht")
        first = client.get("/wacht-op-mij").text
        assert "U kunt nu iets doen <span class=\"muted\">(26)</span>" in first
        assert '<a href="/wacht-op-mij?pagina=2">Volgende pagina</a>' in first
        second = client.get("/wacht-op-mij?pagina=2").text
        assert ["Voorstel 00"] == [t for t in titles(second) if t.startswith("Voorstel")]
        assert '<a href="/wacht-op-mij?pagina=1">Vorige pagina</a>' in second

    def test_answers_kept_for_the_minute_follow_every_write(self, engine, people):
        iid = routes.drive(engine, people, "with_college")
        college = people["college_sliedrecht"]
        assert [iid] == [r.id for r in queries.inbox(engine, college).actionable]
        engine.fire(iid, "decline", actor=college, data={"reason": "Past niet in de begroting."})
        assert [] == queries.inbox(engine, college).actionable


class TestSearch:
    def test_like_wildcards_in_the_search_are_plain_characters(self, engine, people):
        routes.submit(engine, people, "Honderd procent duurzaam")
        routes.submit(engine, people, "Korting van 100% op leges")
        routes.submit(engine, people, "Fiets_route langs de Merwede")

        def found(q):
            return [r.title for r in queries.search(engine, queries.Filters(q=q)).rows]

        assert ["Korting van 100% op leges"] == found("100%")
        assert ["Fiets_route langs de Merwede"] == found("fiets_")
        assert ["Korting van 100% op leges"] == found("%")  # not every title
        assert ["Fiets_route langs de Merwede"] == found("MERWEDE")

    def test_search_finds_parts_of_words_in_title_and_summary_in_any_case(self, app, engine, people):
        cafe = routes.submit(engine, people, "ÉÉN Café aan de haven")
        routes.submit(engine, people, "Fietspad langs de Merwede")

        def found(q):
            result = queries.search(engine, queries.Filters(q=q))
            assert len(result.rows) == result.total  # counted by the index alone: the same
            return [r.id for r in result.rows]

        assert [cafe] == found("café")  # beyond ASCII: the index folds É as well as E
        assert [cafe] == found("één haven")  # every word must be found
        assert 2 == len(found("starters"))  # in the summary
        assert [] == found("haven merwede")
        with app.db.write() as session:  # an edited title is found by its new words only
            session.execute(update(Initiative).where(Initiative.id == cafe).values(title="Kade"))
        assert [] == found("café")
        assert [cafe] == found("kade")

    def test_search_without_the_index_reads_the_table(self, app, engine, people):
        iid = routes.submit(engine, people, "Warmtenet in Zwijndrecht")
        app.db._search_index = False  # an SQLite without FTS5's trigram tokenizer
        try:
            assert [iid] == [r.id for r in queries.search(engine, queries.Filters(q="warmtenet")).rows]
        finally:
            app.db._search_index = None

    def test_a_municipality_finds_its_own_and_those_it_takes_part_in(self, engine, people):
        joined = routes.drive(engine, people, "elaboration", title="Met Papendrecht")
        routes.submit(engine, people, "Alleen Sliedrecht")

        def found(**filters):
            return [r.id for r in queries.search(engine, queries.Filters(**filters)).rows]

        assert [joined] == found(municipality="papendrecht")
        assert [joined] == found(municipality="papendrecht", theme="bouwen-en-wonen")
        assert [] == found(municipality="papendrecht", theme="geen-thema")
        assert 2 == len(found(municipality="sliedrecht"))

    def test_a_page_of_the_list_counts_every_match_even_past_the_last_page(self, engine, people):
        ids = [routes.submit(engine, people, f"Voorstel {n}") for n in range(3)]

        def page(number, **filters):
            found = queries.search(engine, queries.Filters(page=number, page_size=2, **filters))
            return found.total, found.pages, [r.id for r in found.rows]

        assert (3, 2, [ids[2], ids[1]]) == page(1)
        assert (3, 2, [ids[0]]) == page(2)
        assert (3, 2, []) == page(5)
        assert (3, 2, []) == page(5, q="voorstel")
        assert (0, 1, []) == page(1, q="onvindbaar")
        assert (3, 2, [ids[2], ids[1]]) == page(1, municipality="sliedrecht")

    def test_the_count_follows_every_write_although_postgresql_keeps_it(self, app, engine, people):
        routes.submit(engine, people, "Warmtenet in Zwijndrecht")

        def total(**filters):
            return queries.search(engine, queries.Filters(**filters)).total

        assert (1, 1) == (total(q="warmtenet"), total(q="warmtenet"))
        if not app.db.is_sqlite:  # kept with the snapshot it was counted in
            assert 1 == len(listcounts.counts_for(app.db)._kept)
        routes.submit(engine, people, "Warmtenet in Dordrecht")
        assert (2, 2) == (total(q="warmtenet"), total(q="warmtenet"))
        assert (0, 2) == (total(q="warmtenet", theme="geen-thema"), total(q="warmtenet", page=2))

    def test_each_row_of_the_list_shows_its_earliest_open_deadline(self, app, engine, people):
        late = routes.drive(engine, people, "with_college", title="Te laat")
        set_due(app, late, -2)
        ahead = routes.drive(engine, people, "with_college", title="Op tijd")
        set_due(app, ahead, 10)
        closed = routes.drive(engine, people, "with_college", title="Zonder open termijn")
        with app.db.write() as session:  # met deadlines are not shown, however early
            session.add(Deadline(initiative_id=ahead, state="submitted", label="Eerder",
                                 due_at=utcnow() - timedelta(days=30), status="met"))
            session.execute(update(Deadline).where(Deadline.initiative_id == closed).values(status="met"))

        rows = {r.id: r for r in queries.search(engine, queries.Filters()).rows}

        assert (True, False) == (rows[late].overdue, rows[ahead].overdue)
        assert "Eerder" != rows[ahead].deadline_label
        assert 9 == (rows[ahead].due_at - utcnow()).days
        assert (None, None, False) == (rows[closed].deadline_label, rows[closed].due_at, rows[closed].overdue)

    def test_the_list_offers_the_reference_names_as_filters(self, engine, people, browser_for):
        client, _ = browser_for("regiekamer")
        page = client.get("/initiatieven?gemeente=dordrecht").text
        assert '<option value="dordrecht" selected>Dordrecht</option>' in page
        assert '<option value="bouwen-en-wonen">' in page


class TestNewProposal:
    def test_a_fractie_chooses_the_process_when_there_is_more_than_one(self, app, people, browser_for):
        client, _ = browser_for("fractie_sliedrecht")
        flows = queries.submit_flows(app.registry, people["fractie_sliedrecht"])
        page = client.get("/initiatieven/nieuw?proces=groeiagenda").text
        assert '<input type="hidden" name="proces" value="groeiagenda">' in page
        assert (len(flows) > 1) == ("Kies het proces" in page)
        if len(flows) > 1:
            assert 'href="/initiatieven/nieuw?proces=groeiagenda" aria-current="page"' in page
