-- What share of the fish died each month, per geography, at sea and in freshwater?
-- mortality_pct = deaths in the month / average standing population over the stocked days of the
-- month (population is counted at the start of each day, summed over all assignments).

-- Days are summed per geography and environment on ids alone (~15 k groups a decade, hashed); the
-- names join afterwards: grouped by names too, the planner multiplies their distinct counts, expects
-- a group per row and sorts the ~1 M daily rows a year instead.

with per_day as (
    select
        daily_state.year,
        daily_state.state_date,
        locations.geography_id,
        locations.environment,
        sum(daily_state.population) as population,
        sum(daily_state.deaths)::bigint as deaths
    from {{ ref('stg_assignment_daily_state') }} as daily_state
    inner join {{ ref('int_container_location') }} as locations on locations.container_id = daily_state.container_id
    where {{ in_year_window('daily_state.year') }}
    group by 1, 2, 3, 4
),

per_month as (
    select
        year,
        date_trunc('month', state_date)::date as month_start,
        geography_id,
        environment,
        count(*) as stocked_days,
        sum(deaths)::bigint as deaths,
        avg(population::double precision) as avg_population
    from per_day
    group by 1, 2, 3, 4
)

select
    per_month.year,
    per_month.month_start,
    per_month.geography_id,
    geographies.geography_code,
    geographies.geography_name,
    per_month.environment,
    per_month.stocked_days,
    per_month.deaths,
    per_month.avg_population,
    100.0 * per_month.deaths::double precision / nullif(per_month.avg_population, 0) as mortality_pct
from per_month
left join {{ ref('stg_geography') }} as geographies on geographies.geography_id = per_month.geography_id
