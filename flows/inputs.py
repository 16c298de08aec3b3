"""The input each step asks for, with Dutch titles; field names are the API's and the CLI's."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workflow.frameworks import euros_to_cents
from workflow.inputs import Personal, Ref

MunicipalitySlug = Annotated[str, Ref("municipality"), Field(title="Gemeente", min_length=1)]
WorkingGroupSlug = Annotated[str, Ref("working_group"), Field(title="Werkgroep", min_length=1)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SubmitInput(_Input):
    title: str = Field(title="Titel", min_length=3, max_length=300)
    summary: str = Field(title="Samenvatting", min_length=1, max_length=20_000)

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return " ".join(value.split())


class CouncilInput(_Input):
    date: dt.date | None = Field(default=None, title="Datum raadsvergadering")
    reference: str = Field(default="", title="Kenmerk motie of toezegging", max_length=120)


class ReasonInput(_Input):
    reason: str = Field(title="Reden", min_length=3, max_length=5_000)


class OptionalReasonInput(_Input):
    reason: str = Field(default="", title="Reden", max_length=5_000)


class RoutingInput(_Input):
    working_group: WorkingGroupSlug


class ParticipationInput(_Input):
    municipality: MunicipalitySlug
    choice: Literal["join", "decline"] = Field(title="Keuze (join = meedoen, decline = afzien)")


class PlanInput(_Input):
    approach: str = Field(title="Aanpak", min_length=3, max_length=20_000)
    budget: int = Field(title="Begroting in hele euro's", ge=0, strict=False)
    planning: str = Field(title="Planning", min_length=3, max_length=5_000)
    core_task: str | None = Field(
        default=None, title="Kernopgave (code uit het opgaveblad, bijvoorbeeld BW-2)", max_length=64
    )
    year: int | None = Field(
        default=None, title="Jaar van het opgaveblad (standaard: dit jaar)", ge=2000, le=2100
    )

    @field_validator("core_task")
    @classmethod
    def _code(cls, value: str | None) -> str | None:
        return value.upper() if value else None

    @field_validator("budget", mode="before")
    @classmethod
    def _whole_euros(cls, value: object) -> object:
        if isinstance(value, str):
            cleaned = value.replace("€", "").replace(".", "").replace(" ", "").strip()
            if cleaned.endswith(",-"):
                cleaned = cleaned[:-2]
            if not cleaned.isdigit():
                raise ValueError("moet een bedrag in hele euro's zijn, bijvoorbeeld 250000")
            return int(cleaned)
        return value


class ParticipantDecisionsInput(_Input):
    date: dt.date | None = Field(
        default=None, title="Uiterste besluitdatum voor alle deelnemers (JJJJ-MM-DD)"
    )
    decision_text: str = Field(default="", title="Conceptbesluit voor alle deelnemers",
                               max_length=20_000)


class ParticipantDecisionInput(_Input):
    municipality: MunicipalitySlug
    decision: Literal["approve", "reject"] = Field(title="Besluit (approve = akkoord, reject = niet)")
    date: dt.date = Field(title="Datum van het besluit")
    council_decision: str = Field(default="", title="Raadsbesluit (indien nodig)", max_length=2_000)


class AgreementsInput(_Input):
    form: Literal["sok", "uitvoeringsovereenkomst", "collegebesluit", "raadsbesluit", "informeel"] = (
        Field(title="Vorm van de afspraken")
    )
    date: dt.date = Field(title="Datum van de afspraken")


class CompleteInput(_Input):
    result: str = Field(default="", title="Resultaat", max_length=10_000)


class SpendingInput(_Input):
    amount: Decimal = Field(title="Bedrag in euro's (met centen, bijvoorbeeld 1250,50)")
    note: str = Field(default="", title="Toelichting", max_length=2_000)

    @field_validator("amount", mode="before")
    @classmethod
    def _euros(cls, value: object) -> Decimal:
        # Exact to the cent: parsed as Decimal, never as a float.
        cents = euros_to_cents(value)
        if cents <= 0:
            raise ValueError("moet groter dan nul zijn")
        return (Decimal(cents) / 100).quantize(Decimal("0.01"))

    @property
    def amount_cents(self) -> int:
        return euros_to_cents(self.amount)


# --- coalitions, joint decisions, joining and leaving, accountability (issue 4) ---------------


class CoalitionInput(_Input):
    municipalities: str = Field(
        title="Bespreken met (gemeenten, gescheiden door komma's)", min_length=1, max_length=500
    )
    rule: Literal["consensus", "majority", "weighted"] = Field(
        default="consensus",
        title="Besluitregel go/no-go (consensus, majority = meerderheid, weighted = gewogen)",
    )

    @field_validator("municipalities")
    @classmethod
    def _slugs(cls, value: str) -> str:
        slugs = sorted({s.strip().lower() for s in value.split(",") if s.strip()})
        if not slugs:
            raise ValueError("noem minstens één gemeente")
        return ",".join(slugs)

    @property
    def slugs(self) -> list[str]:
        return self.municipalities.split(",")


class JointDecisionInput(_Input):
    decision_text: str = Field(title="Conceptbesluit voor alle deelnemers", min_length=3,
                               max_length=20_000)
    date: dt.date = Field(title="Gezamenlijke uiterste besluitdatum (JJJJ-MM-DD)")


class CoalitionPlanInput(PlanInput, JointDecisionInput):
    """The plan of a coalition and the one decision every college takes on it."""


class VoteInput(_Input):
    municipality: MunicipalitySlug
    vote: Literal["for", "against", "abstain"] = Field(
        title="Stem (for = voor, against = tegen, abstain = onthouding)"
    )
    date: dt.date | None = Field(default=None, title="Datum van het collegebesluit")


class JoinInput(_Input):
    municipality: MunicipalitySlug


class LeaveInput(_Input):
    municipality: MunicipalitySlug
    reason: str = Field(title="Reden van uittreden", min_length=3, max_length=5_000)


class AccountabilityInput(_Input):
    lead_alderman: Annotated[str, Personal()] = Field(
        title="Bestuurlijk trekker (naam wethouder)", min_length=2, max_length=200
    )
    lead_alderman_municipality: MunicipalitySlug = Field(title="Gemeente van de bestuurlijk trekker")
    lead_municipality: MunicipalitySlug = Field(title="Penvoerder (gemeente)")


class PortfolioHolderInput(_Input):
    municipality: MunicipalitySlug
    portfolio_holder: Annotated[str, Personal()] = Field(
        title="Portefeuillehouder in deze gemeente (naam wethouder)", min_length=2, max_length=200
    )


INITIATOR_KINDS = {
    "inwoners": "inwoners",
    "bedrijf": "een bedrijf",
    "maatschappelijke_organisatie": "een maatschappelijke organisatie",
    "kennisinstelling": "een kennisinstelling",
}


class CivicRegistrationInput(SubmitInput):
    """A civic initiative as the college registers it, with the initiator's contact details."""

    # Personal: kept in the initiative (the initiator is mailed) but out of open data.
    initiator_name: Annotated[str, Personal()] = Field(
        title="Naam van de initiatiefnemer (contactpersoon)", min_length=2, max_length=160
    )
    initiator_organisation: str = Field(default="", title="Organisatie (leeg bij inwoners)",
                                        max_length=200)
    initiator_kind: Literal["inwoners", "bedrijf", "maatschappelijke_organisatie", "kennisinstelling"] = (
        Field(title="Soort initiatiefnemer")
    )
    initiator_email: Annotated[str, Personal()] = Field(
        title="E-mailadres van de initiatiefnemer", max_length=254
    )

    @field_validator("initiator_name", "initiator_organisation")
    @classmethod
    def _single_line(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("initiator_email")
    @classmethod
    def _email(cls, value: str) -> str:
        local, at, domain = value.strip().lower().partition("@")
        if not (local and at and "." in domain.strip(".")) or any(c.isspace() for c in value.strip()):
            raise ValueError("moet een geldig e-mailadres zijn, bijvoorbeeld naam@voorbeeld.nl")
        return f"{local}@{domain}"


class CoSubmitterInput(_Input):
    municipality: MunicipalitySlug
    faction: str = Field(title="Mede-indienende fractie", min_length=1, max_length=120)

    @field_validator("faction")
    @classmethod
    def _slug(cls, value: str) -> str:
        return value.lower()


class CouncilTrackInput(_Input):
    municipality: MunicipalitySlug
    outcome: Literal["motion", "commitment", "rejected"] = Field(
        title="Besluit van de raad (motion = motie aangenomen, commitment = toezegging, "
        "rejected = verworpen)"
    )
    date: dt.date | None = Field(default=None, title="Datum raadsvergadering")
    reference: str = Field(default="", title="Kenmerk motie of toezegging", max_length=120)
