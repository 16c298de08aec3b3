"""Decision rules for votes of several parties: consensus, majority, or weighted with a bloc cap.

Pure integer arithmetic: weights are whole inhabitants, shares exact fractions of integers
(never floats). The outcome carries every number it was decided on, so it can be shown with
the result and stored in the event.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any


class Rule(StrEnum):
    CONSENSUS = "consensus"  # everyone votes for
    MAJORITY = "majority"  # more for than against, one vote each; abstentions do not count
    WEIGHTED = "weighted"  # more than half of the weight cast, weights capped per bloc


class Vote(StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


RULE_LABELS = {
    Rule.CONSENSUS: "consensus (iedereen voor)",
    Rule.MAJORITY: "meerderheid van stemmen",
    Rule.WEIGHTED: "gewogen naar inwonertal, met een plafond per blok",
}
VOTE_LABELS = {Vote.FOR: "voor", Vote.AGAINST: "tegen", Vote.ABSTAIN: "onthouding"}

DEFAULT_CAP = Fraction(1, 2)
"""A bloc's share of the weight cast is at most this, so no bloc alone exceeds half."""


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    passed: bool
    summary: str  # one Dutch sentence with the arithmetic
    votes: dict[str, str]
    weights: dict[str, str] = field(default_factory=dict)  # party → capped weight, exact
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.value,
            "passed": self.passed,
            "summary": self.summary,
            "votes": dict(self.votes),
            "weights": dict(self.weights),
            **self.details,
        }


def decide(
    rule: Rule | str,
    votes: Mapping[str, Vote | str],
    *,
    weights: Mapping[str, int] | None = None,
    blocs: Mapping[str, str] | None = None,
    cap: Fraction = DEFAULT_CAP,
) -> Outcome:
    """Apply `rule` to `votes` (party → for/against/abstain). Raises ValueError on bad input."""
    rule = Rule(rule)
    cast = {party: Vote(v) for party, v in votes.items()}
    if not cast:
        raise ValueError("er is nog niet gestemd")
    if rule is Rule.CONSENSUS:
        return _consensus(cast)
    if rule is Rule.MAJORITY:
        return _majority(cast)
    if weights is None or blocs is None:
        raise ValueError("een gewogen stemming heeft gewichten en blokken nodig")
    return _weighted(cast, weights, blocs, cap)


def _consensus(cast: dict[str, Vote]) -> Outcome:
    not_for = sorted(p for p, v in cast.items() if v is not Vote.FOR)
    passed = not not_for
    summary = (
        f"Consensus: alle {len(cast)} deelnemers stemden voor."
        if passed
        else f"Geen consensus: niet voor stemden {', '.join(not_for)}."
    )
    return Outcome(Rule.CONSENSUS, passed, summary, _labels(cast))


def _majority(cast: dict[str, Vote]) -> Outcome:
    n_for = sum(v is Vote.FOR for v in cast.values())
    n_against = sum(v is Vote.AGAINST for v in cast.values())
    passed = n_for > n_against
    summary = (
        f"Meerderheid: {n_for} voor, {n_against} tegen, "
        f"{len(cast) - n_for - n_against} onthouding; {'aangenomen' if passed else 'verworpen'}."
    )
    details = {"for": n_for, "against": n_against}
    return Outcome(Rule.MAJORITY, passed, summary, _labels(cast), details=details)


def _weighted(
    cast: dict[str, Vote], weights: Mapping[str, int], blocs: Mapping[str, str], cap: Fraction
) -> Outcome:
    voting = {p: v for p, v in cast.items() if v is not Vote.ABSTAIN}
    missing = sorted(p for p in voting if p not in weights or p not in blocs)
    if missing:
        raise ValueError(f"geen gewicht of blok bekend voor: {', '.join(missing)}")
    raw = {p: Fraction(weights[p]) for p in voting}
    total = sum(raw.values(), Fraction(0))
    if total == 0:
        return Outcome(Rule.WEIGHTED, False, "Gewogen: er is geen gewicht uitgebracht.", _labels(cast))
    bloc_weight: dict[str, Fraction] = {}
    for p, w in raw.items():
        bloc_weight[blocs[p]] = bloc_weight.get(blocs[p], Fraction(0)) + w
    capped_blocs = _cap_blocs(bloc_weight, cap)
    scale = {
        b: (capped_blocs[b] / bloc_weight[b]) if bloc_weight[b] else Fraction(1) for b in bloc_weight
    }
    capped = {p: w * scale[blocs[p]] for p, w in raw.items()}
    weight_for = sum((w for p, w in capped.items() if voting[p] is Vote.FOR), Fraction(0))
    weight_cast = sum(capped.values(), Fraction(0))
    share = weight_for / weight_cast if weight_cast else Fraction(0)
    passed = share > Fraction(1, 2)
    limited = sorted(b for b, s in scale.items() if s != 1)
    summary = (
        f"Gewogen naar inwonertal: {percent(share)} van het uitgebrachte gewicht stemde voor "
        f"(nodig: meer dan 50%); {'aangenomen' if passed else 'verworpen'}."
        + (
            f" Het blok {', '.join(limited)} telt voor ten hoogste {percent(cap)} mee."
            if limited
            else ""
        )
    )
    details = {
        "cap": str(cap),
        "share_for": str(share),
        "share_for_percent": percent(share),
        "raw_weights": {p: int(w) for p, w in raw.items()},
        "blocs": {p: blocs[p] for p in raw},
        "bloc_weights": {b: str(w) for b, w in bloc_weight.items()},
        "bloc_scale": {b: str(s) for b, s in scale.items()},
    }
    return Outcome(
        Rule.WEIGHTED,
        passed,
        summary,
        _labels(cast),
        weights={p: str(w) for p, w in capped.items()},
        details=details,
    )


def _cap_blocs(bloc_weight: Mapping[str, Fraction], cap: Fraction) -> dict[str, Fraction]:
    """Each bloc's share at most `cap` of the weight cast, the excess spread over nobody.

    Scaling a bloc down shrinks the total too, so the capped weight c of a bloc with weight W
    solves c / (c + rest) = cap, i.e. c = cap * rest / (1 - cap); only blocs above the cap change.
    """
    total = sum(bloc_weight.values(), Fraction(0))
    out = dict(bloc_weight)
    for bloc, weight in bloc_weight.items():
        rest = total - weight
        if weight / total > cap and rest > 0:
            out[bloc] = cap * rest / (1 - cap)
    return out


def _labels(cast: Mapping[str, Vote]) -> dict[str, str]:
    return {p: v.value for p, v in sorted(cast.items())}


def percent(value: Fraction) -> str:
    """`72,2%`: rounded half up to a tenth of a percent in integers, never through a float."""
    tenths = (value.numerator * 2000 + value.denominator) // (2 * value.denominator)
    return f"{tenths // 10},{tenths % 10}%"
