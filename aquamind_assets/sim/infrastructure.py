"""Sites, stations, halls, containers, sensors and feed stores, sized from the scale preset.

Freshwater capacity is derived from the batch plan (units a nominal batch needs per stage x
batches a year / a target utilization), so every preset runs at a realistic occupancy.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..config.scenario import Scenario
from . import biology as bio
from .calendar import epoch_days
from .infrastructure_life import Lives, draw_decade, initial_lives
from .reference import sensor_table
from .rng import stream

GEOS = ("FO", "SC")
GEO_NAMES = {"FO": "Faroe Islands", "SC": "Scotland"}
AREA_GROUPS = {"FO": ("Faroe North", "Faroe West", "Faroe South"),
               "SC": ("West Highlands", "Outer Hebrides", "Shetland")}
SITE_NAMES = {
    "FO": ("Hvannasund", "Gøta", "Lambavík", "Fuglafjørður", "Kaldbak", "Vestmanna",
           "Funningsfjørður", "Sundalagið", "Hvalvík", "Kollafjørður", "Skálafjørður",
           "Sørvágsfjørður", "Trongisvágsfjørður", "Vágur", "Hov", "Árnafjørður", "Borðoyavík",
           "Haraldssund", "Svínáir", "Oyndarfjørður", "Klaksvík", "Selatrað", "Nólsoy", "Hestur",
           "Skopun", "Kunoyarnes", "Viðvík", "Hvalba", "Norðskála", "Gjógv"),
    "SC": ("Loch Fyne", "Loch Striven", "Loch Roag", "Loch Erisort", "Loch Seaforth",
           "Loch Harport", "Loch Sunart", "Loch Linnhe", "Sound of Mull", "Loch Spelve",
           "Loch Duart", "Loch Eriboll", "Kames Bay", "Loch Leven", "Vaila Sound", "Busta Voe"),
}
# per freshwater stage: container type name, category, volume m3, max count
UNIT_SPECS = {
    bio.EGG: ("Incubation tray", "TRAY", 0.5, 20_000),
    bio.FRY: ("Fry tank", "TANK", 2.0, 40_000),
    bio.PARR: ("Parr tank", "TANK", 15.0, 40_000),
    bio.SMOLT: ("Smolt tank", "TANK", 80.0, 60_000),
    bio.POST_SMOLT: ("Post-smolt RAS tank", "TANK", 400.0, 100_000),
}
PEN_TYPE = ("Sea pen 160m", "PEN", 60_000.0)
HALL_LETTERS = "ABCDE"
PEAK_FACTOR, PEAK_UTILIZATION = 1.3, 0.92
PEN_DESIGN_WEIGHT_G = 7_500.0  # pens are stocked so density holds up to this harvest weight


@dataclass
class Infrastructure:
    """Column arrays per table plus the lookups the plan needs (container -> station, site, ...)."""

    tables: dict[str, dict[str, np.ndarray]]
    container_stage: np.ndarray  # FW stage index 0-4, 5 for pens
    container_station: np.ndarray  # -1 for pens
    container_area: np.ndarray  # -1 for tanks
    container_geo: np.ndarray  # 0 FO, 1 SC
    container_volume: np.ndarray
    container_max_count: np.ndarray
    container_max_biomass: np.ndarray
    station_geo: np.ndarray
    station_ras: np.ndarray
    area_geo: np.ndarray
    area_lat: np.ndarray
    hall_feed_container: dict[int, int]  # hall id -> silo id
    area_barges: dict[int, list[int]]
    container_hall: np.ndarray
    lives: Lives | None = None  # commissioning and retirement through the decade (infrastructure_life.py)
    events: dict[str, np.ndarray] = field(default_factory=dict)  # infrastructure.infrastructure_event


def units_per_batch(stage: int, scenario: Scenario) -> int:
    """Units a nominal batch occupies at a freshwater stage (by count at entry, biomass at exit)."""
    b = scenario.biology
    eggs = np.mean(b.eggs_per_batch) * scenario.scale_spec.fish_scale
    surv = [b.stage_survival[s] for s in bio.STAGES[:5]]
    n_in = eggs * np.prod(surv[:stage])
    top_target = max(hi for _, hi in b.smolt_transfer_g.values())
    w_out = {0: bio.EGG_WEIGHT_G[1], 1: b.stage_out_weight_g["fry"], 2: b.stage_out_weight_g["parr"] * 1.2,
             3: b.stage_out_weight_g["smolt"] * 1.15, 4: top_target * 1.15}[stage]  # the plan's upper draws
    _, _, vol, max_count = UNIT_SPECS[stage]
    max_bio = vol * b.freshwater_density_kg_m3 if stage else max_count * bio.EGG_WEIGHT_G[1] * 1.2 / 1000
    peak = w_out * (1.6 if stage >= bio.SMOLT else 1.1)  # the plan sizes each stage the same way
    need = max(np.ceil(n_in / max_count), np.ceil(n_in * peak / 1000 / max_bio))
    return int(np.ceil(need * (1.1 if stage else 1.0)))


class _TableRows:
    """Rows of the infrastructure tables as they are added, with the per-container lookups."""

    def __init__(self) -> None:
        self.t: dict[str, dict[str, list]] = {k: {} for k in (
            "geography", "area_group", "area", "freshwater_station", "hall", "container_type",
            "container", "sensor", "feed_container")}
        self.meta: dict[str, list] = {k: [] for k in ("stage", "station", "area", "geo", "hall")}
        self.station_geo: list[int] = []
        self.station_ras: list[bool] = []
        self.hall_silo: dict[int, int] = {}
        self.area_geo: list[int] = []
        self.area_lat: list[float] = []
        self.area_barges: dict[int, list[int]] = {}

    def add(self, table: str, **row) -> int:
        cols = self.t[table]
        for k, v in row.items():
            cols.setdefault(k, []).append(v)
        return row["id"]

    def next_id(self, table: str) -> int:
        return len(self.t[table].get("id", [])) + 1

    def add_container(self, ctype: int, name: str, vol: float, max_bio: float, max_count: int,
                      hall=None, area=None, stage=0, station=-1, geo=0) -> None:
        self.add("container", id=self.next_id("container"), container_type_id=ctype + 1, hall_id=hall,
                 area_id=area, name=name, volume_m3=vol, max_biomass_kg=max_bio, max_count=max_count,
                 is_sea=area is not None)
        for k, v in (("stage", stage), ("station", station), ("area", -1 if area is None else area),
                     ("geo", geo), ("hall", -1 if hall is None else hall)):
            self.meta[k].append(v)

    def add_feed_container(self, **row) -> int:
        return self.add("feed_container", id=self.next_id("feed_container"), **row)


def _add_regions(rows: _TableRows) -> dict[str, list[int]]:
    """Geographies, their area groups and the container types; returns area group ids per geography."""
    for gi, g in enumerate(GEOS):
        rows.add("geography", id=gi + 1, name=GEO_NAMES[g], code=g)
    ag_ids: dict[str, list[int]] = {}
    for gi, g in enumerate(GEOS):
        for name in AREA_GROUPS[g]:
            ag_ids.setdefault(g, []).append(rows.add("area_group", id=rows.next_id("area_group"),
                                                     geography_id=gi + 1, name=name,
                                                     code=name[:3].upper() + str(gi)))
    types = [(n, c, v) for (n, c, v, _) in UNIT_SPECS.values()] + [PEN_TYPE]
    for i, (n, c, v) in enumerate(types):
        rows.add("container_type", id=i + 1, name=n, category=c, max_volume_m3=v)
    return ag_ids


def _add_hall(rows: _TableRows, scenario: Scenario, gi: int, si: int, st_id: int, stage: int,
              units: int, ras: bool, letter: str | None = None) -> int:
    """A station's hall of one stage (lettered by its stage unless told), its units and its feed silo."""
    sc, b, g = scenario.scale_spec, scenario.biology, GEOS[gi]
    hall_id = rows.next_id("hall")
    name, cat, vol, max_count = UNIT_SPECS[stage]
    letter = letter or HALL_LETTERS[stage]
    rows.add("hall", id=hall_id, freshwater_station_id=st_id, name=f"Hall {letter}",
             lifecycle_stage_id=stage + 1, area_sqm=float(round(max(60.0, units * vol * 1.6), 1)),
             is_ras=bool(ras or stage == 4))
    max_bio = vol * b.freshwater_density_kg_m3 if stage else max_count * bio.EGG_WEIGHT_G[1] * 1.2 / 1000
    prefix = f"{g}-FW-{si + 1:02d}-{letter}"
    for u in range(units):
        rows.add_container(stage, f"{prefix}-{cat[0]}{u + 1:03d}", vol, max_bio, max_count, hall=hall_id,
                           stage=stage, station=st_id - 1, geo=gi)
    rows.hall_silo[hall_id] = rows.add_feed_container(
        hall_id=hall_id, area_id=None, name=f"{prefix} silo", container_type="SILO",
        capacity_kg=float(max(2_000.0, 10_000.0 * sc.fish_scale * (stage + 1))))
    return hall_id


def _add_stations(rows: _TableRows, scenario: Scenario, rng) -> None:
    """Freshwater stations, one hall per stage, sized for the seasonal peak of egg intakes."""
    sc = scenario.scale_spec
    for gi, g in enumerate(GEOS):
        n_st = sc.stations_per_geography[g]
        per_batch = {s: units_per_batch(s, scenario) for s in range(5)}
        for si in range(n_st):
            st_id = len(rows.station_geo) + 1
            ras = si % 3 == 2
            stype = "RAS smolt plant" if ras else ("Hatchery" if si % 3 == 0 else "Hatchery and smolt plant")
            rows.add("freshwater_station", id=st_id, geography_id=gi + 1, name=f"{g}-FW-{si + 1:02d}",
                     station_type=stype, latitude=float((62.0 if g == "FO" else 57.0) + rng.uniform(-0.4, 0.4)),
                     longitude=float((-6.9 if g == "FO" else -5.5) + rng.uniform(-0.5, 0.5)), is_ras=ras)
            rows.station_geo.append(gi)
            rows.station_ras.append(ras)
            for stage in range(5):
                demand = sc.batches_per_year[g] * per_batch[stage] * (bio.NOMINAL_DAYS[stage] + 14) / 365
                # sized for the seasonal peak of egg intakes, and never less than two batches' worth
                n_units = int(np.ceil(max(demand * PEAK_FACTOR / PEAK_UTILIZATION, 2 * per_batch[stage]) / n_st))
                _add_hall(rows, scenario, gi, si, st_id, stage, n_units, ras)


def _add_site(rows: _TableRows, scenario: Scenario, gi: int, k: int, ag_ids: dict[str, list[int]], rng) -> int:
    """A sea site, its pens (stocked so density holds up to the design weight) and three barges."""
    sc, b, g = scenario.scale_spec, scenario.biology, GEOS[gi]
    a_id = len(rows.area_geo) + 1
    n_pens = int(rng.integers(sc.pens_per_site[0], sc.pens_per_site[1] + 1))
    vol = float(PEN_TYPE[2] * rng.uniform(0.85, 1.0))
    cap = int(min(b.pen_max_fish, vol * b.sea_density_limits[3] / (PEN_DESIGN_WEIGHT_G / 1000)))
    names = SITE_NAMES[g]
    name = names[k % len(names)] + ("" if k < len(names) else f" {k // len(names) + 1}")
    lat = (62.0 if g == "FO" else 57.0) + rng.uniform(-0.6, 0.6)
    rows.add("area", id=a_id, geography_id=gi + 1, area_group_id=ag_ids[g][k % 3], name=name,
             latitude=float(lat), longitude=float((-6.9 if g == "FO" else -6.0) + rng.uniform(-0.6, 0.6)),
             max_biomass_kg=float(n_pens * cap * PEN_DESIGN_WEIGHT_G / 1000), pen_count=n_pens)
    rows.area_geo.append(gi)
    rows.area_lat.append(lat)
    for p in range(n_pens):
        rows.add_container(5, f"{name} Pen {p + 1:02d}", vol, vol * b.sea_density_limits[3], cap,
                           area=a_id, stage=5, geo=gi)
    rows.area_barges[a_id] = [
        rows.add_feed_container(hall_id=None, area_id=a_id, name=f"{name} barge {j + 1}", container_type="BARGE",
                                capacity_kg=float(max(20_000.0, 400_000.0 * sc.fish_scale)))
        for j in range(3)]
    return a_id


def _add_decade_units(rows: _TableRows, scenario: Scenario, ag_ids: dict[str, list[int]], lives: Lives) -> None:
    """The units the decade adds (decided in infrastructure_life.draw_decade): a RAS post-smolt hall
    for the Faroese smolts that grow bigger, a sea site per geography, and the rebuilt tanks, each
    commissioned on its day."""
    decade = draw_decade(scenario.seed, np.asarray(rows.meta["stage"]), np.asarray(rows.meta["geo"]),
                         rows.station_geo, rows.station_ras, scenario.scale_spec.sea_sites)
    rng = decade.rng
    for st, day in decade.new_halls:
        units = int(np.count_nonzero((np.asarray(rows.meta["station"]) == st)
                                     & (np.asarray(rows.meta["stage"]) == bio.POST_SMOLT)))
        si = st - int(np.count_nonzero(np.asarray(rows.station_geo[:st]) != rows.station_geo[st]))
        hall = _add_hall(rows, scenario, rows.station_geo[st], si, st + 1, bio.POST_SMOLT, units, True, letter="F")
        lives.hall_commissioned[hall] = day
    for gi, k, day in decade.new_sites:
        lives.area_commissioned[_add_site(rows, scenario, gi, k, ag_ids, rng)] = day
    names, hall, station = rows.t["container"]["name"], rows.meta["hall"], rows.meta["station"]
    for old, day in decade.rebuilt:
        c = rows.t["container"]
        rows.add_container(rows.meta["stage"][old], f"{names[old]}R", c["volume_m3"][old], c["max_biomass_kg"][old],
                           c["max_count"][old], hall=hall[old], stage=rows.meta["stage"][old],
                           station=station[old], geo=rows.meta["geo"][old])
        lives.rebuilt[len(names) - 1] = (old, day)
    lives.area_retire_after.update(decade.retired_sites)


def _sensors(rows: _TableRows, lives: Lives, rng) -> dict[str, np.ndarray]:
    """One sensor per parameter of each container, installed no earlier than its container."""
    s = sensor_table(np.asarray(rows.t["container"]["is_sea"]), rng)
    built = epoch_days(lives.container_commissioned[s["container_id"] - 1])
    s["installation_date"] = np.maximum(s["installation_date"], built).astype(np.int32)
    return s


def _freeze(rows: _TableRows, rng, lives: Lives) -> Infrastructure:
    t = rows.t
    arrays = {k: np.asarray(v) for k, v in rows.meta.items()}
    tables = {k: {c: np.asarray(v, dtype=object if any(x is None for x in v) else None)
                  for c, v in cols.items()} for k, cols in t.items() if k != "sensor"}
    lives.settle(arrays["hall"], arrays["area"])
    tables["sensor"] = _sensors(rows, lives, rng)
    return Infrastructure(
        tables=tables, container_stage=arrays["stage"], container_station=arrays["station"],
        container_area=arrays["area"], container_geo=arrays["geo"],
        container_volume=np.asarray(t["container"]["volume_m3"]),
        container_max_count=np.asarray(t["container"]["max_count"]),
        container_max_biomass=np.asarray(t["container"]["max_biomass_kg"]),
        station_geo=np.asarray(rows.station_geo), station_ras=np.asarray(rows.station_ras),
        area_geo=np.asarray(rows.area_geo), area_lat=np.asarray(rows.area_lat),
        hall_feed_container=rows.hall_silo, area_barges=rows.area_barges, container_hall=arrays["hall"],
        lives=lives)


def build_infrastructure(scenario: Scenario) -> Infrastructure:
    """The farm as it stands before the warm-up, then the units the decade adds: every unit ever in
    service is a row (its dates in `lives`), so ids never depend on the years rendered."""
    rng = stream(scenario.seed, "infrastructure")
    rows = _TableRows()
    ag_ids = _add_regions(rows)
    _add_stations(rows, scenario, rng)
    for gi, g in enumerate(GEOS):
        for k in range(scenario.scale_spec.sea_sites[g]):
            _add_site(rows, scenario, gi, k, ag_ids, rng)
    lives = initial_lives(scenario.seed, len(rows.station_geo), len(rows.t["hall"]["id"]), len(rows.area_geo),
                          [h for h in rows.t["hall"]["freshwater_station_id"]])
    _add_decade_units(rows, scenario, ag_ids, lives)
    return _freeze(rows, rng, lives)
