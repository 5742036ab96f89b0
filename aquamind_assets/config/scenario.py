"""The validated scenario: seed, years, scale preset and the biology, loaded from a checked-in file.

Everything that changes the generated rows lives here, so one hash of this model identifies a
dataset. Unknown keys and impossible values are refused with one line naming the key.
"""
from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .years import FIRST_YEAR, LAST_YEAR, YEAR_SPAN

SCENARIO_DIR = Path(__file__).parent / "scenarios"
DEFAULT_SCENARIO = SCENARIO_DIR / "default.json"


class ScenarioError(ValueError):
    """A one-line, user-facing configuration error."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


Geo = Literal["FO", "SC"]
Count = Annotated[int, Field(ge=1, le=80)]  # bounded: a typo must not ask for 10**9 sites
Share = Annotated[float, Field(gt=0, le=1)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class Scale(Strict):
    """How big the operation is. Presets below; a scenario may override single fields."""

    stations_per_geography: dict[Geo, Count]
    sea_sites: dict[Geo, Count]
    pens_per_site: tuple[Annotated[int, Field(ge=1, le=40)], Annotated[int, Field(ge=1, le=40)]]
    batches_per_year: dict[Geo, Annotated[float, Field(gt=0, le=40, allow_inf_nan=False)]]
    fish_scale: float = Field(gt=0, le=1.0)  # multiplies egg numbers (tiny/small keep units few)
    cadence_multiplier: int = Field(1, ge=1, le=4)  # 2 doubles every sensor's readings per day
    # "reference": docs/domain.md §7.1's 6-16 readings a day per parameter (sim/readings.py CADENCES)
    readings_cadence: Literal["default", "reference"] = "default"

    @model_validator(mode="after")
    def _complete(self) -> "Scale":
        for name in ("stations_per_geography", "sea_sites", "batches_per_year"):
            if set(getattr(self, name)) != {"FO", "SC"}:
                raise ValueError(f"{name} needs both geographies FO and SC")
        if self.pens_per_site[0] > self.pens_per_site[1]:
            raise ValueError("pens_per_site is reversed: give (fewest, most)")
        return self


PRESETS: dict[str, dict] = {
    "tiny": dict(stations_per_geography={"FO": 1, "SC": 1}, sea_sites={"FO": 3, "SC": 3},
                 pens_per_site=(2, 3), batches_per_year={"FO": 1.5, "SC": 1.0}, fish_scale=0.02),
    "small": dict(stations_per_geography={"FO": 2, "SC": 2}, sea_sites={"FO": 7, "SC": 4},
                  pens_per_site=(4, 6), batches_per_year={"FO": 3.0, "SC": 2.0}, fish_scale=0.2),
    "full": dict(stations_per_geography={"FO": 10, "SC": 10}, sea_sites={"FO": 26, "SC": 9},
                 pens_per_site=(13, 16), batches_per_year={"FO": 13.0, "SC": 5.5}, fish_scale=1.0),
}
PRESETS["full2x"] = dict(PRESETS["full"], cadence_multiplier=2)
ScaleName = Literal["tiny", "small", "full", "full2x"]


class Biology(Strict):
    """Numbers from docs/domain.md; the defaults are the calibrated values."""

    eggs_per_batch: tuple[Annotated[float, Field(ge=1e4, le=1e7)], Annotated[float, Field(ge=1e4, le=1e7)]] = (3.0e6, 3.5e6)
    external_egg_share: float = Field(0.6, ge=0, le=1)
    tgc_sea: tuple[Annotated[float, Field(gt=0, le=6)], Annotated[float, Field(ge=0, le=1)]] = (3.05, 0.15)  # mean, sd
    tgc_freshwater: dict[Literal["fry", "parr", "smolt", "post_smolt"], Annotated[float, Field(gt=0, le=6)]] = {
        "fry": 1.3, "parr": 2.0, "smolt": 1.9, "post_smolt": 2.1}
    stage_out_weight_g: dict[Literal["egg_alevin", "fry", "parr", "smolt"], Positive] = {
        "egg_alevin": 0.25, "fry": 5.0, "parr": 45.0, "smolt": 140.0}
    smolt_transfer_g: dict[Geo, tuple[Positive, Positive]] = {"FO": (120.0, 400.0), "SC": (110.0, 200.0)}  # first -> last stored year
    # mean, sd of a batch's planned harvest weight; the Faroes harvest to a narrow size near the top of the
    # live band, since their heavier gutted weight (docs/domain.md §9.1) leaves little room below 6.5 kg live
    harvest_live_kg: dict[Geo, tuple[Annotated[float, Field(ge=1, le=10)], Annotated[float, Field(ge=0, le=2)]]] = {
        "FO": (6.0, 0.1), "SC": (5.15, 0.25)}
    gutted_ratio: tuple[Share, Share] = (0.83, 0.85)
    stage_survival: dict[Literal["egg_alevin", "fry", "parr", "smolt", "post_smolt"], Share] = {
        "egg_alevin": 0.87, "fry": 0.72, "parr": 0.93, "smolt": 0.96, "post_smolt": 0.97}
    sea_monthly_mortality_pct: dict[Geo, Annotated[float, Field(ge=0, le=20)]] = {"FO": 0.32, "SC": 0.62}
    transfer_loss: tuple[Annotated[float, Field(ge=0, lt=1)], Annotated[float, Field(ge=0, lt=1)]] = (0.01, 0.02)
    pen_max_fish: int = Field(200_000, gt=0, le=200_000)
    sea_density_limits: tuple[Positive, Positive, Positive, Positive] = (10.0, 15.0, 20.0, 25.0)
    freshwater_density_kg_m3: float = Field(50.0, gt=0, le=200)
    fallow_days: dict[Geo, Annotated[int, Field(ge=0, le=365)]] = {"FO": 60, "SC": 28}
    cleaning_days: dict[Literal["tray", "tank"], Annotated[int, Field(ge=0, le=90)]] = {"tray": 7, "tank": 14}
    lice_threshold: tuple[Positive, Positive] = (0.5, 1.0)  # Feb-June, July-Jan (adult females/fish)

    @model_validator(mode="after")
    def _ranges(self) -> "Biology":
        for name in ("eggs_per_batch", "gutted_ratio", "transfer_loss"):
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(f"{name} is reversed: give (lowest, highest)")
        return self


FAULT_RATE_MAX = 50.0  # faults per sensor-year: beyond this a sensor would be faulty most of the year


class SensorFaults(Strict):
    """Expected faults per sensor-year of each kind (sim/faults.py); 0 switches a kind off. The
    defaults: a sensor drops out a couple of times a year, glitches a few times, and sticks, drifts
    or needs recalibration about once in three to five years. A sensor reads only while its container
    holds fish, so a drawn fault is kept only inside one such stay (and its year): the long kinds
    (drift, calibration) are stored less often than drawn."""

    gap: float = 2.0
    spike: float = 3.0
    stuck: float = 0.4
    drift: float = 0.2
    calibration: float = 0.3

    @model_validator(mode="before")
    @classmethod
    def _rates(cls, data):
        for kind, rate in (data.items() if isinstance(data, dict) else ()):
            ok = isinstance(rate, (int, float)) and not isinstance(rate, bool) and 0 <= rate <= FAULT_RATE_MAX
            if kind in cls.model_fields and not ok:
                raise ValueError(f"sensor_faults.{kind} is {rate!r}: give a number of faults per sensor-year "
                                 f"from 0 (none) to {FAULT_RATE_MAX:g}")
        return data


class Scenario(Strict):
    name: str = "default"
    seed: int = Field(20150101, ge=0, lt=2**63)
    start_year: int = FIRST_YEAR
    end_year: int = LAST_YEAR
    scale: ScaleName = "small"
    scale_overrides: dict[str, object] = {}
    biology: Biology = Biology()
    sensor_faults: SensorFaults = SensorFaults()

    @model_validator(mode="after")
    def _years(self) -> "Scenario":
        if not (FIRST_YEAR <= self.start_year <= self.end_year <= LAST_YEAR):
            raise ValueError(f"years {self.start_year}-{self.end_year} (start_year-end_year) must lie within "
                             f"{FIRST_YEAR}-{LAST_YEAR} with start_year <= end_year")
        unknown = set(self.scale_overrides) - set(Scale.model_fields)
        if unknown:
            raise ValueError(f"unknown scale_overrides key {sorted(unknown)[0]!r}")
        try:
            Scale(**{**PRESETS[self.scale], **self.scale_overrides})
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(["scale_overrides", *map(str, err["loc"])])
            raise ValueError(f"{where}: {err['msg'].removeprefix('Value error, ')}") from None
        return self

    @cached_property
    def scale_spec(self) -> Scale:
        return Scale(**{**PRESETS[self.scale], **self.scale_overrides})

    @property
    def years(self) -> list[int]:
        return list(range(self.start_year, self.end_year + 1))

    def data_hash(self) -> str:
        """Identifies the generated rows: everything but the year window (years render independently)."""
        payload = self.model_dump(mode="json", exclude={"start_year", "end_year", "name"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _one_line(err: ValidationError) -> str:
    e = err.errors()[0]
    where = ".".join(str(p) for p in e["loc"])
    msg = e["msg"].removeprefix("Value error, ")
    if not where:
        return f"invalid scenario: {msg}"
    if e["type"] == "extra_forbidden":
        return f"unknown scenario key {where!r}: remove it (see aquamind_assets/config/scenarios/default.json)"
    return f"invalid scenario value for {where!r}: {msg}"


def load_scenario(path: str | Path | None = None, **overrides) -> Scenario:
    """Read a scenario file and apply CLI overrides (None values are ignored)."""
    path = Path(path) if path else DEFAULT_SCENARIO
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ScenarioError(f"scenario file {path} not found: pass an existing file with --scenario") from None
    except json.JSONDecodeError as e:
        raise ScenarioError(f"scenario file {path} is not valid JSON (line {e.lineno}): fix the syntax") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"scenario file {path} must hold a JSON object")
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Scenario(**data)
    except ValidationError as err:
        raise ScenarioError(_one_line(err)) from None


def parse_years(text: str) -> tuple[int, int]:
    """'<first>-<last>' or one year -> (start, end), refusing reversed or out-of-range years in one line."""
    parts = text.split("-")
    try:
        start, end = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (None, None)
    except ValueError:
        start = end = None
    if start is None:
        raise ScenarioError(f"--years {text!r} is not a year or a range like {YEAR_SPAN}")
    if start > end:
        raise ScenarioError(f"--years {text!r} is reversed: write {end}-{start}")
    if start < FIRST_YEAR or end > LAST_YEAR:
        raise ScenarioError(f"--years {text!r} lies outside {FIRST_YEAR}-{LAST_YEAR}: the partitions are {FIRST_YEAR}..{LAST_YEAR}")
    return start, end
