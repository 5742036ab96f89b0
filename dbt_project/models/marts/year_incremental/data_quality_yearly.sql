-- How many stored rows of each year break an invariant of docs/domain.md §10?
-- One row per owning year and rule: rows examined and rows violating. The row-level rules live
-- here so each year is checked once, in its own partition run; `data_quality` adds the rules that
-- span years and sums everything into one row per rule. Rule descriptions: seeds/data_quality_rules.csv.

{%- set assignment_row_tables = [
    ('mortality_event_outside_window', 'stg_mortality_event', 'event_date', true, false, 'r.death_count < 0'),
    ('harvest_event_outside_window', 'stg_harvest_event', 'event_date', true, false, none),
    ('harvest_lot_outside_window', 'stg_harvest_lot', 'event_date', false, false, 'r.unit_count < 0'),
    ('feeding_event_outside_window', 'stg_feeding_event', 'feeding_date', true, true, none),
    ('growth_sample_outside_window', 'stg_growth_sample', 'sample_date', false, false, none),
    ('lice_count_outside_window', 'stg_lice_count', 'count_date', true, false, 'r.fish_sampled < 0 or r.count_value < 0'),
    ('treatment_outside_window', 'stg_treatment', 'treatment_date', true, false, none),
    ('vaccination_outside_window', 'stg_vaccination', 'vaccination_date', true, false, 'r.fish_count < 0'),
] %}

{%- set end = history_end() %}
{%- set plain_tables = [
    ('stg_batch', 'start_date > ' ~ end ~ ' or actual_end_date > ' ~ end ~ ' + 1', 'egg_count < 0'),
    ('stg_batch_container_assignment', 'assignment_date > ' ~ end ~ ' or departure_date > ' ~ end ~ ' + 1', 'population_count < 0'),
    ('stg_opening_state', 'state_date > ' ~ end, 'population < 0'),
    ('stg_batch_transfer_workflow', 'transfer_date > ' ~ end,
        'source_count < 0 or transferred_count < 0 or mortality_count < 0'),
    ('stg_transfer_action', 'transfer_date > ' ~ end, 'transferred_count < 0'),
    ('stg_environmental_event', 'start_date > ' ~ end ~ ' or end_date > ' ~ end, none),
    ('stg_feed_purchase', 'order_date > ' ~ end ~ ' or delivery_date > ' ~ end, none),
    ('stg_disease_outbreak', 'start_date > ' ~ end ~ ' or end_date > ' ~ end, none),
] %}

with assignments as not materialized (  -- inlined: the planner then sees the tables' statistics
    -- every assignment a row of these years can belong to (owned by the same or an earlier year)
    select assignment_id, batch_id, container_id, assignment_date, window_end_exclusive
    from {{ ref('stg_batch_container_assignment') }}
    where year <= {{ year_window_last() }}
),

locations as not materialized (
    select * from {{ ref('int_container_location') }}
),

deaths_per_day as (
    select assignment_id, event_date, sum(death_count) as deaths
    from {{ ref('stg_mortality_event') }}
    where {{ in_year_window('year') }}
    group by assignment_id, event_date
),

feed_per_day as (
    select assignment_id, feeding_date, sum(amount_kg) as feed_kg
    from {{ ref('stg_feeding_event') }}
    where {{ in_year_window('year') }}
    group by assignment_id, feeding_date
),

harvested_per_day as (
    select assignment_id, event_date, sum(unit_count) as harvested
    from {{ ref('stg_harvest_lot') }}
    where {{ in_year_window('year') }}
    group by assignment_id, event_date
),

daily_state as (
    select
        *,
        lag(state_date) over same_assignment as previous_date,
        lag(population) over same_assignment as previous_population,
        lag(deaths) over same_assignment as previous_deaths
    from {{ ref('stg_assignment_daily_state') }}
    where {{ in_year_window('year') }}
    -- pairs of days within one year; pairs across a new year are checked in `data_quality`
    window same_assignment as (partition by year, assignment_id order by state_date)
),

daily_state_checks as (
    select
        d.year,
        count(*) as n_rows,
        count(*) filter (where
            a.assignment_id is null
            or d.state_date < a.assignment_date
            or d.state_date >= a.window_end_exclusive
            or d.batch_id is distinct from a.batch_id
            or d.container_id is distinct from a.container_id
        ) as n_outside_window,
        count(*) filter (where d.population < 0 or d.deaths < 0 or d.deaths > d.population) as n_negative,
        count(*) filter (where d.state_date > {{ history_end() }}) as n_future,
        -- population at the start of a day = previous day's population - its deaths - its harvest
        count(*) filter (where d.previous_date = d.state_date - 1) as n_pairs,
        count(*) filter (where
            d.previous_date = d.state_date - 1
            and d.population <> d.previous_population - d.previous_deaths - coalesce(h.harvested, 0)
        ) as n_population_breaks,
        -- derived rows agree with the day they describe: death events sum to the day's deaths,
        -- meals (UTC day) to the day's feed
        count(*) filter (where d.deaths <> coalesce(m.deaths, 0)) as n_deaths_mismatch,
        count(*) filter (where
            abs(d.feed_kg - coalesce(f.feed_kg, 0)) > {{ var('feed_balance_tolerance_kg') }}
        ) as n_feed_mismatch
    from daily_state as d
    left join assignments as a on a.assignment_id = d.assignment_id
    left join harvested_per_day as h
        on h.assignment_id = d.assignment_id and h.event_date = d.previous_date
    left join deaths_per_day as m on m.assignment_id = d.assignment_id and m.event_date = d.state_date
    left join feed_per_day as f on f.assignment_id = d.assignment_id and f.feeding_date = d.state_date
    group by d.year
),

container_days as (
    select year, container_id, state_date, sum(population) as population, sum(biomass_kg) as biomass_kg
    from {{ ref('stg_assignment_daily_state') }}
    where {{ in_year_window('year') }}
    group by year, container_id, state_date
),

container_limit_checks as (
    -- docs/domain.md §10: no more fish or biomass than a container allows; sea pens <= 200,000 fish;
    -- Faroese sea density <= 10 / 15 / 20 / 25 kg/m3 for fish < 1 / 1-2 / 2-3 / > 3 kg
    select
        cd.year,
        count(*) as n_container_days,
        count(*) filter (where
            cd.population > l.max_count or (l.is_sea and cd.population > 200000)
        ) as n_over_count,
        count(*) filter (where cd.biomass_kg > l.max_biomass_kg * (1 + 1e-6)) as n_over_biomass,
        count(*) filter (where l.is_sea and l.geography_code = 'FO') as n_faroese_pen_days,
        count(*) filter (where
            l.is_sea and l.geography_code = 'FO' and cd.population > 0
            and cd.biomass_kg / l.volume_m3 > (1 + 1e-6) * case
                when cd.biomass_kg / cd.population < 1.0 then 10.0
                when cd.biomass_kg / cd.population < 2.0 then 15.0
                when cd.biomass_kg / cd.population < 3.0 then 20.0
                else 25.0
            end
        ) as n_over_faroese_density
    from container_days as cd
    inner join locations as l on l.container_id = cd.container_id
    group by cd.year
),

reading_checks as (
    select
        r.year,
        count(*) as n_rows,
        count(*) filter (where
            a.assignment_id is null
            or r.reading_date < a.assignment_date
            or r.reading_date >= a.window_end_exclusive
            or r.container_id is distinct from a.container_id
        ) as n_outside_window,
        count(*) filter (where p.parameter_code = 'salinity' or p.sea_only) as n_sea_parameter,
        count(*) filter (where (p.parameter_code = 'salinity' or p.sea_only) and l.is_sea is not true)
            as n_sea_parameter_in_freshwater,
        count(*) filter (where r.reading_date > {{ history_end() }}) as n_future
    from {{ ref('stg_environmental_reading') }} as r
    left join assignments as a on a.assignment_id = r.assignment_id
    left join {{ ref('stg_environmental_parameter') }} as p on p.parameter_id = r.parameter_id
    left join locations as l on l.container_id = r.container_id
    where {{ in_year_window('r.year') }}
        and {{ reading_time_window('r.reading_time') }}
    group by r.year
),

feed_stock_checks as (
    -- docs/domain.md §6: purchased = consumed + in stock, to the kilogram; no negative stock
    select
        year,
        count(*) as n_rows,
        count(*) filter (where
            abs(opening_kg + purchased_kg - consumed_kg - closing_kg) > {{ var('feed_balance_tolerance_kg') }}
        ) as n_unbalanced,
        count(*) filter (where
            least(opening_kg, purchased_kg, consumed_kg, closing_kg) < -{{ var('feed_balance_tolerance_kg') }}
        ) as n_negative_stock,
        count(*) filter (where stock_date > {{ history_end() }}) as n_future
    from {{ ref('stg_feed_stock') }}
    where {{ in_year_window('year') }}
    group by year
),

feed_capacity_checks as (
    -- docs/domain.md §6: no silo or barge ever holds more than its capacity
    select
        s.year,
        count(*) as n_container_days,
        count(*) filter (where s.closing_kg > fc.capacity_kg + {{ var('feed_balance_tolerance_kg') }}) as n_over_capacity
    from (
        select year, feed_container_id, stock_date, sum(closing_kg) as closing_kg
        from {{ ref('stg_feed_stock') }}
        where {{ in_year_window('year') }}
        group by year, feed_container_id, stock_date
    ) as s
    left join {{ ref('stg_feed_container') }} as fc on fc.feed_container_id = s.feed_container_id
    group by s.year
),

checks as (
    select c.year, v.rule, v.examined, v.violations
    from daily_state_checks as c
    cross join lateral (
        values
            ('daily_state_outside_window', c.n_rows, c.n_outside_window),
            ('negative_fish', c.n_rows, c.n_negative),
            ('future_dates', c.n_rows, c.n_future),
            ('population_not_conserved_day_to_day', c.n_pairs, c.n_population_breaks),
            ('mortality_events_differ_from_daily_deaths', c.n_rows, c.n_deaths_mismatch),
            ('feeding_events_differ_from_daily_feed', c.n_rows, c.n_feed_mismatch)
    ) as v (rule, examined, violations)

    union all

    select c.year, v.rule, v.examined, v.violations
    from container_limit_checks as c
    cross join lateral (
        values
            ('fish_count_over_container_limit', c.n_container_days, c.n_over_count),
            ('biomass_over_container_limit', c.n_container_days, c.n_over_biomass),
            ('faroese_sea_density_over_limit', c.n_faroese_pen_days, c.n_over_faroese_density)
    ) as v (rule, examined, violations)

    union all

    select c.year, v.rule, v.examined, v.violations
    from reading_checks as c
    cross join lateral (
        values
            ('environmental_reading_outside_window', c.n_rows, c.n_outside_window),
            ('salinity_reading_in_freshwater', c.n_sea_parameter, c.n_sea_parameter_in_freshwater),
            ('future_dates', c.n_rows, c.n_future)
    ) as v (rule, examined, violations)

    union all

    select c.year, v.rule, v.examined, v.violations
    from feed_stock_checks as c
    cross join lateral (
        values
            ('feed_stock_unbalanced', c.n_rows, c.n_unbalanced),
            ('feed_stock_negative', c.n_rows, c.n_negative_stock),
            ('future_dates', c.n_rows, c.n_future)
    ) as v (rule, examined, violations)

    union all

    select year, 'feed_container_over_capacity', n_container_days, n_over_capacity
    from feed_capacity_checks

    {%- for rule, model_name, date_column, match_batch, match_container, negative in assignment_row_tables %}

    union all
    {{ dq_assignment_row_checks(rule, model_name, date_column, match_batch, match_container, negative) }}
    {%- endfor %}

    {%- for model_name, future_condition, negative in plain_tables %}

    union all
    {{ dq_plain_row_checks(model_name, future_condition, negative) }}
    {%- endfor %}
)

select
    year,
    rule::text as rule,
    sum(examined)::bigint as examined,
    sum(violations)::bigint as violations
from checks
group by year, rule
