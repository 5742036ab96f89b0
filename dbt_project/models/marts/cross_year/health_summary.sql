-- How healthy was each geography each year: outbreaks started, treatments and their success, lice
-- per pen-week and vaccinations?
--   treatment_success_pct = successful / treatments with a known outcome (not 'pending')
--   lice: over the pen-weeks counted in the year (ISO week year)
with outbreaks as (
    select year, geography_code, sum(outbreaks)::bigint as outbreaks, count(distinct disease_id) as diseases
    from {{ ref('disease_outbreaks_by_year') }}
    group by year, geography_code
),

batches as (
    select b.batch_id, g.geography_code
    from {{ ref('stg_batch') }} as b
    left join {{ ref('stg_geography') }} as g on g.geography_id = b.geography_id
),

treatments as (
    select
        extract(year from t.treatment_date)::int as year,
        b.geography_code,
        count(*) as treatments,
        count(*) filter (where lower(t.outcome) <> 'pending') as treatments_evaluated,
        count(*) filter (where lower(t.outcome) = 'successful') as treatments_successful
    from {{ ref('stg_treatment') }} as t
    left join batches as b on b.batch_id = t.batch_id
    group by 1, 2
),

lice as (
    select
        iso_year as year,
        geography_code,
        count(*) as pen_weeks_counted,
        avg(adult_female_lice_per_fish) as mean_adult_female_lice_per_fish,
        max(adult_female_lice_per_fish) as max_adult_female_lice_per_fish,
        count(*) filter (where adult_female_lice_per_fish > treatment_threshold) as pen_weeks_over_threshold
    from {{ ref('lice_by_pen_week') }}
    group by 1, 2
),

vaccinations as (
    select
        extract(year from v.vaccination_date)::int as year,
        b.geography_code,
        count(distinct v.batch_id) as batches_vaccinated,
        sum(v.fish_count) as fish_vaccinated
    from {{ ref('stg_vaccination') }} as v
    left join batches as b on b.batch_id = v.batch_id
    group by 1, 2
),

spine as (
    select year, geography_code from outbreaks
    union select year, geography_code from treatments
    union select year, geography_code from lice
    union select year, geography_code from vaccinations
)

select
    s.year,
    s.geography_code,
    g.geography_name,
    coalesce(o.outbreaks, 0) as outbreaks_started,
    coalesce(o.diseases, 0) as diseases_with_outbreaks,
    coalesce(t.treatments, 0) as treatments,
    coalesce(t.treatments_evaluated, 0) as treatments_evaluated,
    coalesce(t.treatments_successful, 0) as treatments_successful,
    100.0 * t.treatments_successful::double precision / nullif(t.treatments_evaluated, 0) as treatment_success_pct,
    coalesce(l.pen_weeks_counted, 0) as lice_pen_weeks_counted,
    l.mean_adult_female_lice_per_fish,
    l.max_adult_female_lice_per_fish,
    coalesce(l.pen_weeks_over_threshold, 0) as lice_pen_weeks_over_threshold,
    coalesce(v.batches_vaccinated, 0) as batches_vaccinated,
    coalesce(v.fish_vaccinated, 0) as fish_vaccinated
from spine as s
left join {{ ref('stg_geography') }} as g on g.geography_code = s.geography_code
left join outbreaks as o on o.year = s.year and o.geography_code is not distinct from s.geography_code
left join treatments as t on t.year = s.year and t.geography_code is not distinct from s.geography_code
left join lice as l on l.year = s.year and l.geography_code is not distinct from s.geography_code
left join vaccinations as v on v.year = s.year and v.geography_code is not distinct from s.geography_code
