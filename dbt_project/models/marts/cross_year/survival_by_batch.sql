-- How many fish of each batch were stocked, died (by cause), were harvested or are still alive,
-- and what is its cumulative survival?
--   stocked: batch_opening_totals.stocked_count for batches alive on the first stored day, else egg_count
--   deaths: deaths before the history (batch_opening_totals) + stored daily deaths; by cause from the
--           mortality events (causes outside the list count as other)
--   cumulative_survival_pct = 100 * (1 - all deaths / stocked)
--   unaccounted_fish = stocked - deaths - harvested - alive at the end (0 when population is conserved)
{%- set causes = ['DISEASE', 'HANDLING', 'PREDATION', 'ENVIRONMENTAL', 'UNKNOWN'] %}

with batches as (
    select * from {{ ref('stg_batch') }}
),

opening_totals as (
    select * from {{ ref('stg_batch_opening_totals') }}
),

stored_deaths as (
    select batch_id, sum(deaths)::bigint as deaths
    from {{ ref('assignment_year_summary') }}
    group by batch_id
),

alive_at_end as (
    -- fish alive after the last stored day in assignments still open at the end of the history
    select s.batch_id, sum(s.last_population - s.last_day_deaths)::bigint as fish
    from {{ ref('assignment_year_summary') }} as s
    inner join {{ ref('stg_batch_container_assignment') }} as a on a.assignment_id = s.assignment_id
    where a.departure_date is null and s.last_date = {{ history_end() }}
    group by s.batch_id
),

deaths_by_cause as (
    select
        m.batch_id,
        {%- for cause in causes %}
        sum(m.death_count) filter (where upper(coalesce(r.reason_code, m.cause)) = '{{ cause }}') as deaths_{{ cause | lower }},
        {%- endfor %}
        sum(m.death_count) filter (
            where upper(coalesce(r.reason_code, m.cause, '')) not in ('{{ causes | join("', '") }}')
        ) as deaths_other,
        sum(m.death_count) as deaths_in_events
    from {{ ref('stg_mortality_event') }} as m
    left join {{ ref('stg_mortality_reason') }} as r on r.mortality_reason_id = m.mortality_reason_id
    group by m.batch_id
),

harvests as (
    select e.batch_id, sum(l.unit_count) as fish
    from {{ ref('stg_harvest_lot') }} as l
    inner join {{ ref('stg_harvest_event') }} as e on e.harvest_event_id = l.harvest_event_id
    group by e.batch_id
),

counts as (
    select
        b.batch_id,
        b.batch_number,
        b.geography_id,
        b.start_date,
        b.actual_end_date,
        b.status,
        coalesce(ot.stocked_count, b.egg_count) as stocked_count,
        coalesce(ot.deaths_before, 0) as deaths_before_history,
        coalesce(sd.deaths, 0) as deaths_in_history,
        coalesce(ot.deaths_before, 0) + coalesce(sd.deaths, 0) as deaths_total,
        {%- for cause in causes %}
        coalesce(dc.deaths_{{ cause | lower }}, 0) as deaths_{{ cause | lower }},
        {%- endfor %}
        coalesce(dc.deaths_other, 0) as deaths_other,
        coalesce(dc.deaths_in_events, 0) as deaths_in_mortality_events,
        coalesce(h.fish, 0) as harvested_count,
        coalesce(al.fish, 0) as alive_at_end
    from batches as b
    left join opening_totals as ot on ot.batch_id = b.batch_id
    left join stored_deaths as sd on sd.batch_id = b.batch_id
    left join deaths_by_cause as dc on dc.batch_id = b.batch_id
    left join harvests as h on h.batch_id = b.batch_id
    left join alive_at_end as al on al.batch_id = b.batch_id
)

select
    counts.*,
    100.0 * (1 - deaths_total::double precision / nullif(stocked_count, 0)) as cumulative_survival_pct,
    100.0 * harvested_count::double precision / nullif(stocked_count, 0) as harvested_pct_of_stocked,
    stocked_count - deaths_total - harvested_count - alive_at_end as unaccounted_fish
from counts
