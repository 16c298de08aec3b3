"""Decision rules with the real Drechtsteden inhabitants and blocs from the reference data."""

from fractions import Fraction

import pytest

from flows.reference import MUNICIPALITIES
from workflow.decisions import Rule, decide

INHABITANTS = {slug: n for slug, _name, n, _region, _bloc in MUNICIPALITIES}
BLOCS = {slug: bloc for slug, _name, _n, _region, bloc in MUNICIPALITIES}


def weighted(votes, **kw):
    return decide(Rule.WEIGHTED, votes, weights=INHABITANTS, blocs=BLOCS, **kw)


class TestConsensus:
    def test_all_for(self):
        outcome = decide("consensus", {"sliedrecht": "for", "gorinchem": "for", "molenlanden": "for"})
        assert (True, "Consensus: alle 3 deelnemers stemden voor.") == (outcome.passed, outcome.summary)

    def test_one_abstention_breaks_consensus(self):
        outcome = decide("consensus", {"sliedrecht": "for", "gorinchem": "abstain"})
        assert (False, "Geen consensus: niet voor stemden gorinchem.") == (outcome.passed, outcome.summary)


class TestMajority:
    @pytest.mark.parametrize(("votes", "passed"), [
        ({"a": "for", "b": "for", "c": "against"}, True),
        ({"a": "for", "b": "against"}, False),  # a tie is no majority
        ({"a": "for", "b": "abstain", "c": "abstain"}, True),
    ])
    def test_more_for_than_against(self, votes, passed):
        assert passed == decide("majority", votes).passed


class TestWeighted:
    def test_dordrecht_alone_would_carry_a_plain_weighted_vote(self):
        votes = {"dordrecht": "for", "sliedrecht": "against", "alblasserdam": "against"}
        plain = weighted(votes, cap=Fraction(1))  # no cap: weights are the inhabitants
        assert plain.passed
        assert "72,2%" == plain.details["share_for_percent"]  # 121,400 of 168,200

    def test_the_cap_stops_the_urban_bloc_deciding_alone(self):
        votes = {"dordrecht": "for", "sliedrecht": "against", "alblasserdam": "against"}
        outcome = weighted(votes)
        assert not outcome.passed
        assert Fraction(1, 2) == Fraction(outcome.details["share_for"])
        assert {"stedelijk": str(Fraction(46_800, 121_400)), "polder": "1"} == outcome.details["bloc_scale"]
        assert (
            "Gewogen naar inwonertal: 50,0% van het uitgebrachte gewicht stemde voor (nodig: meer "
            "dan 50%); verworpen. Het blok stedelijk telt voor ten hoogste 50,0% mee."
        ) == outcome.summary

    def test_with_support_from_the_other_bloc_the_vote_passes(self):
        votes = {"dordrecht": "for", "sliedrecht": "for", "alblasserdam": "against"}
        outcome = weighted(votes)
        assert outcome.passed
        # urban capped to the polder's 46,800; for = 46,800 + 26,000 of 93,600
        assert Fraction(72_800, 93_600) == Fraction(outcome.details["share_for"])

    def test_all_seven_drechtsteden(self):
        seven = ["alblasserdam", "dordrecht", "hardinxveld-giessendam", "hendrik-ido-ambacht",
                 "papendrecht", "sliedrecht", "zwijndrecht"]
        urban_for = {m: ("for" if BLOCS[m] == "stedelijk" else "against") for m in seven}
        outcome = weighted(urban_for)
        # urban 231,700 vs polder 65,700 inhabitants: capped to a tie, so no bloc decides alone
        assert not outcome.passed
        polder_for = {m: ("for" if BLOCS[m] == "polder" else "against") for m in seven}
        assert not weighted(polder_for).passed

    def test_abstentions_carry_no_weight(self):
        outcome = weighted({"dordrecht": "abstain", "sliedrecht": "for", "gorinchem": "against"})
        assert {"sliedrecht": 26_000, "gorinchem": 38_100} == outcome.details["raw_weights"]
        assert not outcome.passed

    def test_unknown_party_is_an_error(self):
        with pytest.raises(ValueError, match="geen gewicht of blok bekend voor: utrecht"):
            weighted({"utrecht": "for"})


def test_no_votes_is_an_error():
    with pytest.raises(ValueError, match="er is nog niet gestemd"):
        decide("majority", {})
