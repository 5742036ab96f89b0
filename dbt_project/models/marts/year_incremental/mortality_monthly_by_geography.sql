-- What share of the fish died each month, per geography, at sea and in freshwater?
-- mortality_pct = deaths in the month / average standing population over the stocked days of the
-- month (population is counted at the start of each day, summed over all assignments).

-- The batches load sums the daily state per day, geography and environment as it writes it
-- (batch.stock_day), so the days are read here, not the daily state.

with per_day as (
    select year, state_date, geography_id, environment, population, deaths
    from {{ ref('stg_stock_day') }}
    where {{ in_year_window('year') }}
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
