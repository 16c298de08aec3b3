"""The council vocabulary of Open Raadsinformatie (VNG): motie/toezegging, aangenomen/verworpen.

Maps the flow steps in which a council hands a proposal to the college to the terms griffies
and the ORI data model use, so the council list and the exports speak the same language.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class CouncilTerm:
    kind: str  # "motie" | "toezegging" (ORI: Motion / Commitment)
    outcome: str  # "aangenomen" | "verworpen" | "" (a commitment is not voted on)


COUNCIL_STEPS: dict[str, CouncilTerm] = {
    "adopt_motion": CouncilTerm("motie", "aangenomen"),
    "reject_motion": CouncilTerm("motie", "verworpen"),
    "record_commitment": CouncilTerm("toezegging", ""),
}
"""Triggers that record what the council did with a proposal."""

ORI_CLASSIFICATION = {"motie": "Motie", "toezegging": "Toezegging"}
ORI_RESULT = {"aangenomen": "Aangenomen", "verworpen": "Verworpen"}

ZGW_DECISIONS = frozenset({
    "adopt_motion", "reject_motion", "record_commitment", "decline", "handle_locally",
    "decide_go", "decide_no_go", "record_participant_decision", "confirm_fits_frameworks",
    "require_participant_decisions",
})
"""Steps that record a decision: each becomes a ZGW `besluit` in the case-system export."""
