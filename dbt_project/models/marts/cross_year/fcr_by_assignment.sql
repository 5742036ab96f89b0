-- What was the biological feed conversion ratio of each assignment over its stored window?
--   biological_fcr = feed / (B_end - B_start + B_dead + B_harvested + B_out - B_in)
--   B_start: biomass on the first stored day that did not arrive by a stored transfer: the warm
--            start (opening_state on the first stored day) or the stocking of eggs; 0 when fish came by transfer
--   B_end:   biomass on the last stored day of an assignment still open at the end of the history
--   B_dead:  deaths x mean weight of the day; B_harvested: harvest live weight
--   B_out / B_in: biomass moved out of / into the assignment by stored transfers
-- confidence: days from the last growth sample to the end of the window (< 10 very_high,
-- < 20 high, < 40 medium, else or never sampled: low).
with assignments as (
    select * from {{ ref('stg_batch_container_assignment') }}
),

stored as (
    select
        assignment_id,
        sum(state_days)::bigint as state_days,
        min(first_date) as first_date,
        max(last_date) as last_date,
        sum(feed_kg) as feed_kg,
        sum(deaths)::bigint as deaths,
        sum(dead_biomass_kg) as dead_biomass_kg
    from {{ ref('assignment_year_summary') }}
    group by assignment_id
),

first_state as (
    select distinct on (assignment_id) assignment_id, first_biomass_kg
    from {{ ref('assignment_year_summary') }}
    order by assignment_id, first_date
),

last_state as (
    select distinct on (assignment_id) assignment_id, last_biomass_kg
    from {{ ref('assignment_year_summary') }}
    order by assignment_id, last_date desc
),

opening as (
    select assignment_id, sum(biomass_kg) as biomass_kg
    from {{ ref('stg_opening_state') }}
    group by assignment_id
),

transfers_in as (
    select dest_assignment_id as assignment_id, sum(transferred_biomass_kg) as biomass_kg
    from {{ ref('stg_transfer_action') }}
    where transfer_date >= {{ history_start() }}
    group by dest_assignment_id
),

transfers_out as (
    select source_assignment_id as assignment_id, sum(transferred_biomass_kg) as biomass_kg
    from {{ ref('stg_transfer_action') }}
    where transfer_date >= {{ history_start() }}
    group by source_assignment_id
),

harvested as (
    select assignment_id, sum(live_weight_kg) as biomass_kg
    from {{ ref('stg_harvest_lot') }}
    group by assignment_id
),

last_samples as (
    select assignment_id, max(sample_date) as last_sample_date
    from {{ ref('stg_growth_sample') }}
    group by assignment_id
),

balance as (
    select
        a.assignment_id,
        a.batch_id,
        a.container_id,
        a.lifecycle_stage_id,
        a.assignment_date,
        a.departure_date,
        least(a.window_end_exclusive - 1, {{ history_end() }}) as window_last_day,
        s.state_days,
        s.feed_kg,
        s.deaths,
        case
            when a.assignment_date < {{ history_start() }} then coalesce(o.biomass_kg, f.first_biomass_kg)
            when ti.assignment_id is null then f.first_biomass_kg
            else 0
        end as biomass_start_kg,
        case when a.departure_date is null then l.last_biomass_kg else 0 end as biomass_end_kg,
        coalesce(s.dead_biomass_kg, 0) as biomass_dead_kg,
        coalesce(h.biomass_kg, 0) as biomass_harvested_kg,
        coalesce(t_out.biomass_kg, 0) as biomass_out_kg,
        coalesce(ti.biomass_kg, 0) as biomass_in_kg,
        ls.last_sample_date
    from assignments as a
    inner join stored as s on s.assignment_id = a.assignment_id
    left join first_state as f on f.assignment_id = a.assignment_id
    left join last_state as l on l.assignment_id = a.assignment_id
    left join opening as o on o.assignment_id = a.assignment_id
    left join transfers_in as ti on ti.assignment_id = a.assignment_id
    left join transfers_out as t_out on t_out.assignment_id = a.assignment_id
    left join harvested as h on h.assignment_id = a.assignment_id
    left join last_samples as ls on ls.assignment_id = a.assignment_id
),

gains as (
    select
        *,
        biomass_end_kg - biomass_start_kg + biomass_dead_kg + biomass_harvested_kg
            + biomass_out_kg - biomass_in_kg as biomass_gain_kg,
        window_last_day - last_sample_date as days_since_last_sample
    from balance
)

select
    assignment_id,
    batch_id,
    container_id,
    lifecycle_stage_id,
    assignment_date,
    departure_date,
    state_days,
    feed_kg,
    deaths,
    biomass_start_kg,
    biomass_end_kg,
    biomass_dead_kg,
    biomass_harvested_kg,
    biomass_out_kg,
    biomass_in_kg,
    biomass_gain_kg,
    case when feed_kg > 0 and biomass_gain_kg > 0 then feed_kg / biomass_gain_kg end as biological_fcr,
    last_sample_date,
    days_since_last_sample,
    {{ fcr_confidence('days_since_last_sample') }} as confidence
from gains
