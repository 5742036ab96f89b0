"""Table specs for the health and growth-sample assets (see tables.py for conventions).

Every row that happens to fish carries its assignment (docs/domain.md §2); ids are derived from plan
indices so a year can be rebuilt alone. Nullable only where the value may not exist yet on
the last stored day (a withholding end or lab result after it) or does not apply (a freshwater outbreak
has no sea area, a disease treatment has no lice count).
"""
from ..config.years import LAST_DATE
from .schema import C, yearly

GROWTH_SAMPLE = yearly("batch", "growth_sample",
    C("id", "int4"), C("assignment_id", "int4"), C("sample_date", "date"), C("sample_size", "int4"),
    C("avg_weight_g", "float4"), C("std_weight_g", "float4"), C("avg_length_cm", "float4"),
    C("std_length_cm", "float4"), C("condition_factor", "float4",
                                      description="Fulton's K = 100 W / L^3 of the stored averages"),
    time_column="sample_date",
    description="Weighings of a sample of fish: weekly in freshwater tanks, fortnightly at sea.")
VACCINATION = yearly("health", "vaccination",
    C("id", "int4"), C("batch_id", "int4"), C("assignment_id", "int4"), C("vaccination_date", "date"),
    C("vaccination_type_id", "int4"), C("avg_weight_g", "float4"), C("fish_count", "int4"),
    description="One row per tank of a batch vaccinated (>= 25 g, before sea transfer; docs/domain.md §8).")
LICE_COUNT = yearly("health", "lice_count",
    C("id", "int8"), C("batch_id", "int4"), C("assignment_id", "int4"), C("count_date", "date"),
    C("lice_type_id", "int4"), C("fish_sampled", "int4"), C("count_value", "int4"),
    time_column="count_date",
    description="Lice counted on the fish sampled from a sea pen, one row per species and stage.")
TREATMENT = yearly("health", "treatment",
    C("id", "int4"), C("batch_id", "int4"), C("assignment_id", "int4"), C("treatment_date", "date"),
    C("treatment_type_id", "int4"), C("dosage", "text"), C("duration_days", "int4"),
    C("withholding_days", "int4"),
    C("withholding_end_date", "date", True, f"treatment_date + duration + withholding; NULL after {LAST_DATE}"),
    C("outcome", "text"),
    C("lice_before", "float4", True, "adult female lice per fish at the count that triggered it"),
    description="Delousing and disease treatments; no harvest before the withholding end (docs/domain.md §8).")
DISEASE_OUTBREAK = yearly("health", "disease_outbreak",
    C("id", "int4"), C("batch_id", "int4"), C("disease_id", "int4"),
    C("area_id", "int4", True, "sea site; NULL in freshwater"), C("start_date", "date"),
    C("end_date", "date", True, f"NULL while still active on {LAST_DATE}"))
JOURNAL_ENTRY = yearly("health", "journal_entry",
    C("id", "int4"), C("batch_id", "int4"), C("assignment_id", "int4"), C("entry_date", "date"),
    C("category", "text"), C("severity", "text"), C("description", "text"),
    description="Veterinary journal: observation, issue, action, diagnosis, treatment, vaccination, sample.")
HEALTH_SAMPLING_EVENT = yearly("health", "health_sampling_event",
    C("id", "int4"), C("assignment_id", "int4"), C("sampling_date", "date"), C("fish_sampled", "int4"),
    C("avg_weight_g", "float4"), C("avg_length_cm", "float4"), C("avg_k_factor", "float4"),
    description="Monthly health check of a pen or post-smolt tank; averages computed from its fish.")
INDIVIDUAL_FISH_OBSERVATION = yearly("health", "individual_fish_observation",
    C("id", "int8"), C("sampling_event_id", "int4"), C("fish_number", "int2"), C("weight_g", "float4"),
    C("length_cm", "float4"))
FISH_PARAMETER_SCORE = yearly("health", "fish_parameter_score",
    C("observation_id", "int8"), C("parameter_id", "int4"), C("score", "int2"),
    description="0 (healthy) to 3 (severe) for each of the 9 health parameters of a fish.")
HEALTH_LAB_SAMPLE = yearly("health", "health_lab_sample",
    C("id", "int4"), C("assignment_id", "int4"), C("sample_type_id", "int4"), C("sample_date", "date"),
    C("results_date", "date", True, f"NULL while results are pending on {LAST_DATE}"),
    C("finding", "text"), C("value", "float4", True, "the finding's measured value; NULL while pending"))

GROWTH_TABLES = (GROWTH_SAMPLE,)
HEALTH_TABLES = (VACCINATION, LICE_COUNT, TREATMENT, DISEASE_OUTBREAK, JOURNAL_ENTRY, HEALTH_SAMPLING_EVENT,
                 INDIVIDUAL_FISH_OBSERVATION, FISH_PARAMETER_SCORE, HEALTH_LAB_SAMPLE)
