"""Reference data (docs/domain.md §3-§9): parameters, feeds, lice, treatments, diseases, grades.

Kept as literal tables so the generators and the stored lookups share one set of ids.
"""
from __future__ import annotations

import numpy as np

from ..config.years import FIRST_YEAR
from . import biology as bio
from .calendar import FIRST_STORED_DAY, day_of, epoch_days

# id, code, name, unit, min, max, opt_min, opt_max, sea_only, fw_only, readings/day
PARAMETERS = (
    (1, "temperature", "Temperature", "C", -2.0, 30.0, 4.0, 16.0, False, False, 3),
    (2, "dissolved_oxygen", "Dissolved oxygen", "mg/L", 0.0, 20.0, 7.0, 12.0, False, False, 3),
    (3, "oxygen_saturation", "Oxygen saturation", "%", 0.0, 200.0, 80.0, 110.0, False, False, 1),
    (4, "ph", "pH", "pH", 4.0, 10.0, 6.5, 8.5, False, False, 1),
    (5, "salinity", "Salinity", "ppt", 0.0, 40.0, 25.0, 35.0, True, False, 1),
    (6, "co2", "Carbon dioxide", "mg/L", 0.0, 40.0, 0.0, 15.0, False, False, 1),
    (7, "no2", "Nitrite", "mg/L", 0.0, 1.0, 0.0, 0.1, False, True, 1),
    (8, "no3", "Nitrate", "mg/L", 0.0, 100.0, 0.0, 50.0, False, True, 1),
    (9, "nh4", "Ammonium", "mg/L", 0.0, 2.0, 0.0, 0.02, False, True, 1),
)
PARAM_ID = {p[1]: p[0] for p in PARAMETERS}
FRESHWATER_PARAMS = tuple(p[0] for p in PARAMETERS if not p[8])
SEA_PARAMS = tuple(p[0] for p in PARAMETERS if not p[9])

# id, name, brand, pellet mm, min g, max g, protein, fat, carb
FEEDS = (
    (1, "Starter 0.5mm", "BioMar", 0.5, 0.0, 0.8, 55, 18, 10),
    (2, "Starter 1.0mm", "BioMar", 1.0, 0.8, 5.0, 52, 19, 11),
    (3, "Grower 2.0mm", "Skretting", 2.0, 5.0, 30.0, 48, 21, 13),
    (4, "Grower 3.0mm", "Skretting", 3.0, 30.0, 100.0, 46, 23, 13),
    (5, "Grower 4.0mm", "Cargill", 4.0, 100.0, 250.0, 44, 25, 13),
    (6, "Finisher 5.0mm", "Cargill", 5.0, 250.0, 500.0, 43, 27, 12),
    (7, "Finisher 6.0mm", "BioMar", 6.0, 500.0, 1000.0, 42, 29, 12),
    (8, "Finisher 8.0mm", "Skretting", 8.0, 1000.0, 3000.0, 41, 31, 11),
    (9, "Finisher 11.0mm", "Aller Aqua", 11.0, 3000.0, 1e9, 40, 32, 11),
)
FEED_MAX_G = np.array([f[5] for f in FEEDS])
# id, name, lead days, price multiplier
FEED_SUPPLIERS = ((1, "BioMar", 7, 1.00), (2, "Skretting", 5, 1.02), (3, "Cargill (EWOS)", 14, 0.99),
                  (4, "Aller Aqua", 10, 0.98))
EGG_SUPPLIERS = ((1, "AquaGen", False), (2, "Benchmark Genetics", False), (3, "Stofnfiskur", False),
                 (4, "Own broodstock", True))
STRAINS = ("AquaGen Atlantic QTL-innOva", "Benchmark SalmoBreed", "Stofnfiskur StofnFlex", "Own line Hvalvík")
MORTALITY_CAUSES = ("DISEASE", "HANDLING", "PREDATION", "ENVIRONMENTAL", "UNKNOWN")
CAUSE_ID = {c: i + 1 for i, c in enumerate(MORTALITY_CAUSES)}
# id, code, name, category, duration days, withholding days, allowed in the Faroes
TREATMENTS = (
    (1, "FRESHWATER_BATH", "Freshwater bath", "lice", 1, 0, True),
    (2, "THERMAL", "Thermal delousing", "lice", 1, 0, True),
    (3, "MECHANICAL", "Mechanical delousing", "lice", 1, 0, True),
    (4, "H2O2", "Hydrogen peroxide bath", "lice", 1, 3, True),  # Faroes: before 2016, then rarely
    (5, "AZAMETHIPHOS", "Azamethiphos bath", "lice", 1, 5, False),
    (6, "DELTAMETHRIN", "Deltamethrin bath", "lice", 1, 7, False),
    (7, "EMAMECTIN", "Emamectin benzoate in feed", "lice", 7, 21, False),
    (8, "ANTIBIOTIC", "Florfenicol in feed", "disease", 10, 45, False),
    (9, "AGD_FRESHWATER", "Freshwater bath for AGD", "disease", 1, 0, True),
)
TREATMENT_ID = {t[1]: t[0] for t in TREATMENTS}
WITHHOLDING = np.array([0] + [t[5] for t in TREATMENTS])
DURATION = np.array([0] + [t[4] for t in TREATMENTS])
# id, code, name
DISEASES = ((1, "AGD", "Amoebic gill disease"), (2, "PD", "Pancreas disease"),
            (3, "HSMI", "Heart and skeletal muscle inflammation"), (4, "CMS", "Cardiomyopathy syndrome"),
            (5, "WINTER_ULCER", "Winter ulcer"), (6, "ISA", "Infectious salmon anaemia"),
            (7, "IPN", "Infectious pancreatic necrosis"))
DISEASE_ID = {d[1]: d[0] for d in DISEASES}
LICE_SPECIES = ("Lepeophtheirus salmonis", "Caligus elongatus")
LICE_STAGES = (("chalimus", "unknown"), ("pre-adult", "unknown"), ("adult", "male"), ("adult", "female"))
VACCINES = ((1, "Alpha Ject micro 6", "PHARMAQ", "0.05 ml/fish"), (2, "Aquavac PD7", "MSD", "0.05 ml/fish"),
            (3, "Alpha Ject 6-2", "PHARMAQ", "0.1 ml/fish"))
SAMPLE_TYPES = ("blood", "gill", "tissue", "kidney", "fecal", "water", "PCR", "histology")
HEALTH_PARAMETERS = ("Gill health", "Eye condition", "Skin condition", "Fin condition", "Body condition",
                     "Swimming behaviour", "Appetite", "Mucous membrane", "Pigmentation")
GRADES = (("SUPERIOR", "Superior"), ("GRADE_A", "Grade A"), ("GRADE_B", "Grade B"),
          ("GRADE_C", "Grade C"), ("REJECT", "Reject"))


def _cols(rows, names, **extra):
    cols = {n: np.asarray([r[i] for r in rows], dtype=object) for i, n in enumerate(names)}
    cols.update(extra)
    return cols


def reference_tables(readings_per_day: np.ndarray | None = None) -> dict[str, dict[str, np.ndarray]]:
    """The lookup tables; `readings_per_day` (by parameter id) is the scenario's cadence, stored with
    each parameter (the default cadence's figures when not given)."""
    parameters = PARAMETERS if readings_per_day is None else [
        (*p[:10], int(readings_per_day[p[0]])) for p in PARAMETERS]
    lice = [(s, g, st) for s in LICE_SPECIES for st, g in LICE_STAGES]
    stages = [(i + 1, 1, bio.STAGE_NAMES[i], i + 1, lo, hi, d) for i, (lo, hi, d) in enumerate(
        [(0.1, 0.3, 110), (0.2, 6.0, 90), (5.0, 60.0, 90), (30.0, 180.0, 90), (100.0, 500.0, 90),
         (100.0, 7000.0, 480)])]
    return {
        "batch.species": _cols([(1, "Atlantic Salmon", "Salmo salar")], ("id", "name", "scientific_name")),
        "batch.lifecycle_stage": _cols(stages, ("id", "species_id", "name", "stage_order",
                                               "expected_weight_min_g", "expected_weight_max_g",
                                               "typical_duration_days")),
        "batch.egg_supplier": _cols(EGG_SUPPLIERS, ("id", "name", "is_internal")),
        "environmental.environmental_parameter": _cols(parameters, (
            "id", "code", "name", "unit", "min_value", "max_value", "optimal_min", "optimal_max",
            "sea_only", "freshwater_only", "readings_per_day")),
        "inventory.feed": _cols(FEEDS, ("id", "name", "brand", "pellet_size_mm", "min_fish_weight_g",
                                        "max_fish_weight_g", "protein_percentage", "fat_percentage",
                                        "carbohydrate_percentage")),
        "inventory.feed_supplier": _cols(FEED_SUPPLIERS, ("id", "name", "lead_time_days", "price_multiplier")),
        "health.lice_type": _cols([(i + 1, *r) for i, r in enumerate(lice)],
                                  ("id", "species", "gender", "development_stage")),
        "health.vaccination_type": _cols(VACCINES, ("id", "name", "manufacturer", "dosage")),
        "health.sample_type": _cols(list(enumerate(SAMPLE_TYPES, 1)), ("id", "name")),
        "health.mortality_reason": _cols([(i, c, c.title()) for c, i in CAUSE_ID.items()], ("id", "code", "name")),
        "health.treatment_type": _cols(TREATMENTS, ("id", "code", "name", "category", "duration_days",
                                                    "withholding_days", "allowed_in_faroes")),
        "health.disease": _cols(DISEASES, ("id", "code", "name")),
        "health.health_parameter": _cols([(i, n, 0, 3) for i, n in enumerate(HEALTH_PARAMETERS, 1)],
                                         ("id", "name", "min_score", "max_score")),
        "harvest.product_grade": _cols([(i, c, n) for i, (c, n) in enumerate(GRADES, 1)], ("id", "code", "name")),
    }


# every sensor is installed in the year before the stored years, so it reads from their first day
INSTALLED_FROM = epoch_days(day_of(f"{FIRST_YEAR - 1}-01-01"))
INSTALLED_BY = epoch_days(FIRST_STORED_DAY - 1)


def sensor_table(container_is_sea: np.ndarray, seed_rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One sensor per parameter a container kind measures: no salinity in freshwater, no turbidity."""
    fw, sea = np.array(FRESHWATER_PARAMS), np.array(SEA_PARAMS)
    per = np.where(container_is_sea, len(sea), len(fw))
    container_id = np.repeat(np.arange(1, len(per) + 1), per)
    params = np.concatenate([sea if s else fw for s in container_is_sea])
    n = len(params)
    codes = np.array([p[1] for p in PARAMETERS], dtype=object)
    install = INSTALLED_FROM + seed_rng.integers(0, 1400, n)  # most land on INSTALLED_BY
    return {"id": np.arange(1, n + 1), "container_id": container_id, "parameter_id": params,
            "name": codes[params - 1], "serial_number": np.array([f"SN{100000 + i}" for i in range(n)], dtype=object),
            "installation_date": np.minimum(install, INSTALLED_BY).astype(np.int32)}
