"""Decision rules on the reference data as seeded: the weights the coalition route really uses."""

from fractions import Fraction

import pytest

from flows.common import municipality_facts
from workflow.decisions import Rule, decide, percent

SEVEN = ("alblasserdam", "dordrecht", "hardinxveld-giessendam", "hendrik-ido-ambacht",
         "papendrecht", "sliedrecht", "zwijndrecht")


@pytest.fixture
def facts(app):
    with app.db.read() as session:
        return municipality_facts(session, None)


def weighted(facts, votes, **kw):
    return decide(Rule.WEIGHTED, votes, weights={m: facts[m]["inhabitants"] for m in votes},
                  blocs={m: facts[m]["bloc"] for m in votes}, **kw)


def test_the_seeded_drechtsteden_with_inhabitants_and_blocs(facts):
    assert {
        "alblasserdam": (20_800, "polder"), "dordrecht": (121_400, "stedelijk"),
        "hardinxveld-giessendam": (18_900, "polder"), "hendrik-ido-ambacht": (32_300, "stedelijk"),
        "papendrecht": (32_700, "stedelijk"), "sliedrecht": (26_000, "polder"),
        "zwijndrecht": (45_300, "stedelijk"),
    } == {m: (facts[m]["inhabitants"], facts[m]["bloc"]) for m in SEVEN}


class TestTheLargestAloneCannotDecide:
    """Dordrecht has the most inhabitants; no weighting lets it, or its bloc, decide alone."""

    def test_dordrecht_against_the_six_others_loses(self, facts):
        votes = {m: ("for" if m == "dordrecht" else "against") for m in SEVEN}
        assert not weighted(facts, votes).passed  # 121,400 of 297,400

    def test_dordrecht_alone_would_carry_a_plain_weighted_vote_and_the_cap_prevents_it(self, facts):
        votes = {"dordrecht": "for", "sliedrecht": "against", "alblasserdam": "against"}
        plain = weighted(facts, votes, cap=Fraction(1))
        capped = weighted(facts, votes)
        # Plain weights: Dordrecht's 121,400 of 168,200 inhabitants (72.2%) would carry it alone.
        assert (True, "72,2%") == (plain.passed, plain.details["share_for_percent"])
        # Capped: the urban bloc counts for at most half of the weight cast, so it cannot.
        assert (False, "50,0%") == (capped.passed, capped.details["share_for_percent"])
        assert {"dordrecht": "46800", "sliedrecht": "26000", "alblasserdam": "20800"} == capped.weights

    def test_the_whole_urban_bloc_cannot_outvote_the_polder(self, facts):
        urban_for = {m: ("for" if facts[m]["bloc"] == "stedelijk" else "against") for m in SEVEN}
        outcome = weighted(facts, urban_for)
        # 231,700 urban inhabitants are scaled down to the polder's 65,700: a tie, no majority.
        assert (False, "50,0%") == (outcome.passed, outcome.details["share_for_percent"])
        assert {"stedelijk": "231700", "polder": "65700"} == outcome.details["bloc_weights"]

    def test_one_polder_vote_with_the_urban_bloc_carries_it(self, facts):
        votes = {m: ("for" if facts[m]["bloc"] == "stedelijk" or m == "sliedrecht" else "against")
                 for m in SEVEN}
        outcome = weighted(facts, votes)
        assert outcome.passed
        assert Fraction(65_700 + 26_000, 2 * 65_700) == Fraction(outcome.details["share_for"])


def test_every_number_of_the_outcome_is_an_integer_or_an_exact_fraction(facts):
    outcome = weighted(facts, {"dordrecht": "for", "gorinchem": "against", "molenlanden": "abstain"})
    as_stored = outcome.as_dict()
    assert {"dordrecht": 121_400, "gorinchem": 38_100} == as_stored["raw_weights"]
    for value in (*as_stored["weights"].values(), as_stored["share_for"], as_stored["cap"]):
        assert isinstance(value, str) and "." not in value  # "p/q" or "n", never a float


@pytest.mark.parametrize(("share", "text"), [
    (Fraction(0), "0,0%"), (Fraction(1), "100,0%"), (Fraction(1, 2), "50,0%"),
    (Fraction(2, 3), "66,7%"), (Fraction(1, 3), "33,3%"), (Fraction(1, 2000), "0,1%"),
    (Fraction(121_400, 168_200), "72,2%"),
])
def test_percentages_round_half_up_in_integers(share, text):
    assert text == percent(share)
