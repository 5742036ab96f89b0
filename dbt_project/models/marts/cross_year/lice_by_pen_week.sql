-- How many lice did the fish of each sea pen carry each week?
--   adult_female_lice_per_fish: adult female Lepeophtheirus salmonis per sampled fish (the
--     regulatory measure); total_lice_per_fish: every species and stage
--   treatment_threshold: 0.5 adult females per fish in February-June, 1.0 otherwise (docs/domain.md §8)
-- A count is one (assignment, count_date): fish_sampled is taken once, count_value summed over types.
with lice_counts as (
    select * from {{ ref('stg_lice_count') }}
),

lice_types as (
    select * from {{ ref('stg_lice_type') }}
),

counts as (
    select
        c.assignment_id,
        c.batch_id,
        c.count_date,
        max(c.fish_sampled) as fish_sampled,
        sum(c.count_value) filter (where
            lower(t.development_stage) = 'adult' and lower(t.gender) = 'female'
            and t.lice_species = 'Lepeophtheirus salmonis'
        ) as adult_female_lice,
        sum(c.count_value) as total_lice
    from lice_counts as c
    left join lice_types as t on t.lice_type_id = c.lice_type_id
    group by c.assignment_id, c.batch_id, c.count_date
),

weekly as (
    select
        a.container_id,
        date_trunc('week', c.count_date)::date as week_start,
        min(c.batch_id) as batch_id,
        count(*) as counts,
        sum(c.fish_sampled) as fish_sampled,
        sum(coalesce(c.adult_female_lice, 0)) as adult_female_lice,
        sum(c.total_lice) as total_lice
    from counts as c
    inner join {{ ref('stg_batch_container_assignment') }} as a on a.assignment_id = c.assignment_id
    group by a.container_id, date_trunc('week', c.count_date)::date
)

select
    extract(isoyear from w.week_start)::int as iso_year,
    w.week_start,
    w.container_id,
    l.container_name,
    l.area_id,
    l.area_name,
    l.geography_code,
    l.geography_name,
    w.batch_id,
    w.counts,
    w.fish_sampled,
    w.adult_female_lice::double precision / nullif(w.fish_sampled, 0) as adult_female_lice_per_fish,
    w.total_lice::double precision / nullif(w.fish_sampled, 0) as total_lice_per_fish,
    case when extract(month from w.week_start) between 2 and 6 then 0.5::double precision else 1.0 end as treatment_threshold
from weekly as w
left join {{ ref('int_container_location') }} as l on l.container_id = w.container_id
