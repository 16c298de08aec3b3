"""The input each step asks for, with Dutch titles; field names are the API's and the CLI's."""

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workflow.inputs import Ref

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
