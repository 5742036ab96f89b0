-- What was each batch's feed conversion, biological and economic?
--   biological_fcr = stored feed / (B_end - B_start + B_dead + B_harvested + B_out - B_in), summed
--     over the batch's assignments for its stored life (from the first stored day for warm-started batches,
--     whose B_start is the opening state); transfers between its own assignments cancel out
--   economic_fcr = lifetime feed (incl. batch_opening_totals.feed_kg_before) /
--     (harvested live biomass - stocked biomass), for completed batches only
--   confidence from the days between the batch's last growth sample and the end of its stored life
with batches as (
    select * from {{ ref('stg_batch') }}
),

assignment_fcr as (
    select * from {{ ref('fcr_by_assignment') }}
),

opening_totals as (
    select * from {{ ref('stg_batch_opening_totals') }}
),

egg_weight as (
    -- mean weight of a stocked egg: the lower bound of the first lifecycle stage
    select expected_weight_min_g as weight_g
    from {{ ref('stg_lifecycle_stage') }}
    order by stage_order
    limit 1
),

harvests as (
    select
        e.batch_id,
        sum(l.live_weight_kg) as harvested_live_kg,
        sum(l.unit_count) as harvested_fish,
        max(l.event_date) as last_harvest_date
    from {{ ref('stg_harvest_lot') }} as l
    inner join {{ ref('stg_harvest_event') }} as e on e.harvest_event_id = l.harvest_event_id
    group by e.batch_id
),

per_batch as (
    select
        batch_id,
        sum(feed_kg) as feed_kg,
        sum(biomass_start_kg) as biomass_start_kg,
        sum(biomass_end_kg) as biomass_end_kg,
        sum(biomass_dead_kg) as biomass_dead_kg,
        sum(biomass_harvested_kg) as biomass_harvested_kg,
        sum(biomass_out_kg) as biomass_out_kg,
        sum(biomass_in_kg) as biomass_in_kg,
        sum(biomass_gain_kg) as biomass_gain_kg,
        -- eggs stocked inside the history: first-day biomass of assignments nobody transferred into
        sum(biomass_start_kg) filter (where assignment_date >= {{ history_start() }}) as stocked_biomass_in_history_kg,
        max(last_sample_date) as last_sample_date,
        max(coalesce(departure_date - 1, {{ history_end() }})) as last_stored_day
    from assignment_fcr
    group by batch_id
),

combined as (
    select
        b.batch_id,
        b.batch_number,
        b.geography_id,
        b.start_date,
        b.actual_end_date,
        b.status,
        b.start_date < {{ history_start() }} as warm_started,
        coalesce(ot.stocked_count, b.egg_count) as stocked_count,
        case
            when b.start_date >= {{ history_start() }} then p.stocked_biomass_in_history_kg
            else coalesce(ot.stocked_count, b.egg_count) * (select weight_g from egg_weight) / 1000.0
        end as stocked_biomass_kg,
        p.feed_kg,
        coalesce(ot.feed_kg_before, 0) as feed_kg_before_history,
        p.feed_kg + coalesce(ot.feed_kg_before, 0) as lifetime_feed_kg,
        p.biomass_start_kg,
        p.biomass_end_kg,
        p.biomass_dead_kg,
        p.biomass_harvested_kg,
        p.biomass_out_kg,
        p.biomass_in_kg,
        p.biomass_gain_kg,
        coalesce(h.harvested_live_kg, 0) as harvested_live_kg,
        coalesce(h.harvested_fish, 0) as harvested_fish,
        h.last_harvest_date,
        b.actual_end_date is not null and coalesce(h.harvested_live_kg, 0) > 0 as is_completed,
        p.last_sample_date,
        least(coalesce(b.actual_end_date, p.last_stored_day), p.last_stored_day) - p.last_sample_date
            as days_since_last_sample
    from batches as b
    inner join per_batch as p on p.batch_id = b.batch_id
    left join opening_totals as ot on ot.batch_id = b.batch_id
    left join harvests as h on h.batch_id = b.batch_id
)

select
    combined.*,
    case when feed_kg > 0 and biomass_gain_kg > 0 then feed_kg / biomass_gain_kg end as biological_fcr,
    case
        when is_completed and harvested_live_kg - stocked_biomass_kg > 0
            then lifetime_feed_kg / (harvested_live_kg - stocked_biomass_kg)
    end as economic_fcr,
    {{ fcr_confidence('days_since_last_sample') }} as confidence
from combined
