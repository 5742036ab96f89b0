-- What did each year look like across the operation?
--   active_batches_at_year_end: batches with fish in a container on 31 December
--   mortality_pct: deaths in the year / average population over the year's days
--   avg_biological_fcr: mean biological FCR of the batches whose last harvest fell in the year
--   treatment_success_pct: successful / treatments with a known outcome
--   utilization_pct: occupied / available container-days (freshwater and sea together)
--   records_per_table: rows per yearly warehouse table ({"schema.table": rows})
with years as (
    select distinct year::int as year from {{ ref('records_by_table_year') }}
),

active_batches as (
    select y.year, count(distinct a.batch_id) as active_batches
    from years as y
    inner join {{ ref('stg_batch_container_assignment') }} as a
        on a.assignment_date <= make_date(y.year, 12, 31)
        and a.window_end_exclusive > make_date(y.year, 12, 31)
    group by y.year
),

population as (
    select
        year::int as year,
        sum(deaths)::bigint as deaths,
        sum(population_days) as population_days
    from {{ ref('assignment_year_summary') }}
    group by year
),

harvest as (
    select year::int as year, sum(fish)::bigint as fish_harvested, sum(live_tonnes) as live_tonnes,
        sum(gutted_tonnes) as gutted_tonnes
    from {{ ref('harvest_yearly_by_geography') }}
    group by year
),

fcr as (
    select extract(year from last_harvest_date)::int as year, avg(biological_fcr) as avg_biological_fcr,
        avg(economic_fcr) as avg_economic_fcr, count(*) as batches_completed
    from {{ ref('fcr_by_batch') }}
    where is_completed
    group by 1
),

health as (
    select
        year,
        sum(outbreaks_started)::bigint as outbreaks_started,
        sum(treatments)::bigint as treatments,
        100.0 * sum(treatments_successful)::double precision / nullif(sum(treatments_evaluated), 0)
            as treatment_success_pct
    from {{ ref('health_summary') }}
    group by year
),

utilization as (
    select
        year::int as year,
        100.0 * sum(occupied_container_days)::double precision / nullif(sum(available_container_days), 0)
            as utilization_pct,
        100.0 * (sum(occupied_container_days) filter (where environment = 'freshwater'))::double precision
            / nullif(sum(available_container_days) filter (where environment = 'freshwater'), 0)
            as freshwater_utilization_pct,
        100.0 * (sum(occupied_container_days) filter (where environment = 'sea'))::double precision
            / nullif(sum(available_container_days) filter (where environment = 'sea'), 0)
            as sea_utilization_pct
    from {{ ref('utilization_monthly') }}
    where level = 'geography'
    group by year
),

records as (
    select
        year::int as year,
        sum(row_count)::bigint as total_records,
        jsonb_object_agg(table_name, row_count order by table_name) as records_per_table
    from {{ ref('records_by_table_year') }}
    group by year
)

select
    y.year,
    coalesce(ab.active_batches, 0) as active_batches_at_year_end,
    coalesce(h.fish_harvested, 0) as fish_harvested,
    coalesce(h.live_tonnes, 0) as harvest_live_tonnes,
    coalesce(h.gutted_tonnes, 0) as harvest_gutted_tonnes,
    coalesce(p.deaths, 0) as deaths,
    p.population_days / (make_date(y.year + 1, 1, 1) - make_date(y.year, 1, 1)) as avg_population,
    100.0 * p.deaths::double precision
        / nullif(p.population_days / (make_date(y.year + 1, 1, 1) - make_date(y.year, 1, 1)), 0) as mortality_pct,
    coalesce(f.batches_completed, 0) as batches_completed,
    f.avg_biological_fcr,
    f.avg_economic_fcr,
    coalesce(he.outbreaks_started, 0) as outbreaks_started,
    coalesce(he.treatments, 0) as treatments,
    he.treatment_success_pct,
    u.utilization_pct,
    u.freshwater_utilization_pct,
    u.sea_utilization_pct,
    r.total_records,
    r.records_per_table
from years as y
left join active_batches as ab on ab.year = y.year
left join population as p on p.year = y.year
left join harvest as h on h.year = y.year
left join fcr as f on f.year = y.year
left join health as he on he.year = y.year
left join utilization as u on u.year = y.year
left join records as r on r.year = y.year
