-- Does the stored data keep every invariant of docs/domain.md §10? One row per rule:
-- rows (or pairs, container-days, workflows) examined and how many violate it; every violation
-- count is computed from the stored rows and is expected to be 0 (tested by `expect_zero`).
-- Row-level rules come per year from `data_quality_yearly`; the rules below span years.
-- Rules that need several years of daily state only look at years whose daily state is stored.
with rules as (
    select * from {{ ref('data_quality_rules') }}
),

assignments as (
    select * from {{ ref('stg_batch_container_assignment') }}
),

year_summaries as (
    select * from {{ ref('assignment_year_summary') }}
),

loaded_years as (
    select distinct year::int as year from year_summaries
),

workflows as (
    select * from {{ ref('stg_batch_transfer_workflow') }}
),

actions as (
    select * from {{ ref('stg_transfer_action') }}
),

harvested_per_day as (
    select assignment_id, event_date, sum(unit_count) as harvested
    from {{ ref('stg_harvest_lot') }}
    group by assignment_id, event_date
),

double_booked as (
    -- two assignment windows overlapping in one container (docs/domain.md §2, §10)
    select
        (select count(*) from assignments) as examined,
        count(*) as violations
    from assignments as a
    inner join assignments as b
        on b.container_id = a.container_id
        and b.assignment_id > a.assignment_id
        and b.assignment_date < a.window_end_exclusive
        and a.assignment_date < b.window_end_exclusive
),

action_totals as (
    select workflow_id, sum(transferred_count) as transferred_count
    from actions
    group by workflow_id
),

destination_totals as (
    select x.workflow_id, sum(d.population_count) as population_count
    from (select distinct workflow_id, dest_assignment_id from actions) as x
    inner join assignments as d on d.assignment_id = x.dest_assignment_id
    group by x.workflow_id
),

workflow_totals as (
    select
        w.workflow_id,
        w.source_count,
        w.mortality_count,
        w.transferred_count,
        coalesce(t.transferred_count, 0) as action_count,
        coalesce(d.population_count, 0) as destination_population
    from workflows as w
    left join action_totals as t on t.workflow_id = w.workflow_id
    left join destination_totals as d on d.workflow_id = w.workflow_id
),

transfer_checks as (
    select
        count(*) as examined,
        count(*) filter (where action_count <> transferred_count) as actions_vs_workflow,
        count(*) filter (where destination_population <> transferred_count) as destination_vs_workflow,
        count(*) filter (where source_count - mortality_count <> transferred_count) as workflow_unbalanced
    from workflow_totals
),

last_days as (
    select distinct on (assignment_id) assignment_id, last_date, last_population, last_day_deaths
    from year_summaries
    order by assignment_id, last_date desc
),

transferred_out as (
    select source_assignment_id as assignment_id, sum(transferred_count) as fish
    from actions
    group by source_assignment_id
),

exits as (
    -- a closed assignment's fish at the end of its last day all left by transfer or harvest
    select
        a.assignment_id,
        l.last_population - l.last_day_deaths - coalesce(h.harvested, 0) - coalesce(o.fish, 0)
            as fish_unaccounted
    from assignments as a
    inner join last_days as l on l.assignment_id = a.assignment_id and l.last_date = a.departure_date - 1
    left join harvested_per_day as h on h.assignment_id = a.assignment_id and h.event_date = l.last_date
    left join transferred_out as o on o.assignment_id = a.assignment_id
    where extract(year from a.departure_date)::int in (select year from loaded_years)
),

year_boundaries as (
    -- population on 1 January = population on 31 December - its deaths - its harvest
    select
        count(*) as examined,
        count(*) filter (where
            nxt.first_population <> prev.last_population - prev.last_day_deaths - coalesce(h.harvested, 0)
        ) as violations
    from year_summaries as nxt
    inner join year_summaries as prev
        on prev.assignment_id = nxt.assignment_id
        and prev.year = nxt.year - 1
        and prev.last_date = nxt.first_date - 1
    left join harvested_per_day as h on h.assignment_id = prev.assignment_id and h.event_date = prev.last_date
),

expected_days as (
    -- days of each window inside the loaded years of the history
    select
        a.assignment_id,
        sum(
            least(a.window_end_exclusive, make_date(y.year + 1, 1, 1), {{ history_end() }} + 1)
            - greatest(a.assignment_date, make_date(y.year, 1, 1), {{ history_start() }})
        ) as expected_days
    from assignments as a
    inner join loaded_years as y
        on a.assignment_date < make_date(y.year + 1, 1, 1)
        and a.window_end_exclusive > make_date(y.year, 1, 1)
    group by a.assignment_id
    having sum(
        least(a.window_end_exclusive, make_date(y.year + 1, 1, 1), {{ history_end() }} + 1)
        - greatest(a.assignment_date, make_date(y.year, 1, 1), {{ history_start() }})
    ) > 0
),

coverage as (
    -- one daily state row per assignment and day of its window, no gaps and no duplicates
    select
        count(*) as examined,
        count(*) filter (where
            coalesce(s.state_days, 0) <> coalesce(e.expected_days, 0)
            or coalesce(s.state_days, 0) <> coalesce(s.distinct_state_days, 0)
        ) as violations
    from expected_days as e
    full outer join (
        select assignment_id, sum(state_days) as state_days, sum(distinct_state_days) as distinct_state_days
        from year_summaries
        group by assignment_id
    ) as s on s.assignment_id = e.assignment_id
),

withholding as (
    -- no harvest while a treatment's withholding period runs (docs/domain.md §8, §10); the period is
    -- [treatment_date, end) with end the later of withholding_end_date and
    -- treatment_date + duration_days + withholding_days (the first day harvest is allowed)
    select
        count(*) as examined,
        count(*) filter (where in_withholding) as violations
    from (
        select
            e.harvest_event_id,
            coalesce(bool_or(
                e.event_date < greatest(
                    t.withholding_end_date,
                    t.treatment_date + coalesce(t.duration_days, 0) + coalesce(t.withholding_days, 0)
                )
            ), false) as in_withholding
        from {{ ref('stg_harvest_event') }} as e
        left join {{ ref('stg_treatment') }} as t
            on t.assignment_id = e.assignment_id and t.treatment_date <= e.event_date
        group by e.harvest_event_id
    ) as harvests
),

salinity_sensors as (
    select
        count(*) as examined,
        count(*) filter (where l.is_sea is not true) as violations
    from {{ ref('stg_sensor') }} as s
    inner join {{ ref('stg_environmental_parameter') }} as p
        on p.parameter_id = s.parameter_id and (p.parameter_code = 'salinity' or p.sea_only)
    left join {{ ref('int_container_location') }} as l on l.container_id = s.container_id
),

feed_stock_continuity as (
    -- a day's opening stock is the previous stored day's closing stock, per feed container and feed
    select
        count(*) filter (where previous_closing_kg is not null) as examined,
        count(*) filter (where
            abs(opening_kg - previous_closing_kg) > {{ var('feed_balance_tolerance_kg') }}
        ) as violations
    from (
        select
            opening_kg,
            lag(closing_kg) over (partition by feed_container_id, feed_id order by stock_date) as previous_closing_kg
        from {{ ref('stg_feed_stock') }}
    ) as s
),

cross_year_checks as (
    select 'container_double_booked' as rule, examined, violations from double_booked
    union all
    select 'transfer_actions_differ_from_workflow', examined, actions_vs_workflow from transfer_checks
    union all
    select 'transfer_destinations_differ_from_workflow', examined, destination_vs_workflow from transfer_checks
    union all
    select 'transfer_workflow_unbalanced', examined, workflow_unbalanced from transfer_checks
    union all
    select 'population_not_conserved_at_exit', count(*), count(*) filter (where fish_unaccounted <> 0) from exits
    union all
    select 'population_not_conserved_day_to_day', examined, violations from year_boundaries
    union all
    select 'daily_state_gaps', examined, violations from coverage
    union all
    select 'harvest_in_withholding_period', examined, violations from withholding
    union all
    select 'salinity_sensor_in_freshwater', examined, violations from salinity_sensors
    union all
    select 'feed_stock_discontinuous', examined, violations from feed_stock_continuity
),

yearly_checks as (
    select rule, examined, violations, year from {{ ref('data_quality_yearly') }}
),

totals as (
    select rule, examined, violations, null::int as first_year, null::int as last_year
    from cross_year_checks
    union all
    select rule, examined, violations, year::int, year::int
    from yearly_checks
),

per_rule as (
    select
        rule,
        sum(examined)::bigint as examined,
        sum(violations)::bigint as violations,
        min(first_year) as first_year,
        max(last_year) as last_year
    from totals
    group by rule
)

select
    coalesce(r.rule, p.rule) as rule,
    r.description,
    r.reference_section,
    coalesce(p.examined, 0) as examined,
    coalesce(p.violations, 0) as violations,
    p.first_year,
    p.last_year
from rules as r
full outer join per_rule as p on p.rule = r.rule
