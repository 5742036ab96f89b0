-- What share of the fish died each month, per geography, at sea and in freshwater?
-- mortality_pct = deaths in the month / average standing population over the stocked days of the
-- month (population is counted at the start of each day, summed over all assignments).

with daily_state as (
    select year, state_date, container_id, population, deaths
    from {{ ref('stg_assignment_daily_state') }}
    where {{ in_year_window('year') }}
),

locations as (
    select container_id, geography_id, geography_code, geography_name, environment
    from {{ ref('int_container_location') }}
),

per_day as (
    select
        daily_state.year,
        date_trunc('month', daily_state.state_date)::date as month_start,
        locations.geography_id,
        locations.geography_code,
        locations.geography_name,
        locations.environment,
        daily_state.state_date,
        sum(daily_state.population) as population,
        sum(daily_state.deaths)::bigint as deaths
    from daily_state
    inner join locations on locations.container_id = daily_state.container_id
    group by 1, 2, 3, 4, 5, 6, 7
)

select
    year,
    month_start,
    geography_id,
    geography_code,
    geography_name,
    environment,
    count(*) as stocked_days,
    sum(deaths)::bigint as deaths,
    avg(population::double precision) as avg_population,
    100.0 * sum(deaths)::double precision / nullif(avg(population::double precision), 0) as mortality_pct
from per_day
group by year, month_start, geography_id, geography_code, geography_name, environment
