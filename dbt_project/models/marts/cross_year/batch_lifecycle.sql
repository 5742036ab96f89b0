-- When did each batch enter and leave each lifecycle stage, in how many containers, and at what
-- weights?
--   entry: assignment_date, population_count and avg_weight_g of the stage's assignments
--   exit_date: the first day out of the stage (all its assignments closed), NULL while in it
--   exit_weight_g: mean weight of the fish that left the stage by transfer or harvest
--   latest_weight_g: mean weight on the last stored day (start of day), also for open stages
with assignments as (
    select * from {{ ref('stg_batch_container_assignment') }}
),

stages as (
    select * from {{ ref('stg_lifecycle_stage') }}
),

last_state as (
    select distinct on (assignment_id) assignment_id, last_date, last_population, last_avg_weight_g
    from {{ ref('assignment_year_summary') }}
    order by assignment_id, last_date desc
),

transfers_out as (
    select
        source_assignment_id as assignment_id,
        sum(transferred_count) as fish,
        sum(transferred_biomass_kg) as biomass_kg
    from {{ ref('stg_transfer_action') }}
    group by source_assignment_id
),

harvested as (
    select assignment_id, sum(unit_count) as fish, sum(live_weight_kg) as biomass_kg
    from {{ ref('stg_harvest_lot') }}
    group by assignment_id
)

select
    a.batch_id,
    a.lifecycle_stage_id,
    st.stage_name,
    st.stage_order,
    count(*) as containers,
    min(a.assignment_date) as entry_date,
    case when bool_and(a.departure_date is not null) then max(a.departure_date) end as exit_date,
    case when bool_and(a.departure_date is not null) then max(a.departure_date) - min(a.assignment_date) end
        as days_in_stage,
    sum(a.population_count) as entry_population,
    sum(a.population_count * a.avg_weight_g) / nullif(sum(a.population_count), 0) as entry_weight_g,
    sum(coalesce(t.fish, 0) + coalesce(h.fish, 0))::bigint as exit_population,
    1000.0 * sum(coalesce(t.biomass_kg, 0) + coalesce(h.biomass_kg, 0))
        / nullif(sum(coalesce(t.fish, 0) + coalesce(h.fish, 0)), 0) as exit_weight_g,
    max(ls.last_date) as latest_stored_date,
    sum(ls.last_population * ls.last_avg_weight_g) / nullif(sum(ls.last_population), 0) as latest_weight_g,
    bool_and(a.departure_date is not null) as is_completed
from assignments as a
left join stages as st on st.lifecycle_stage_id = a.lifecycle_stage_id
left join last_state as ls on ls.assignment_id = a.assignment_id
left join transfers_out as t on t.assignment_id = a.assignment_id
left join harvested as h on h.assignment_id = a.assignment_id
group by a.batch_id, a.lifecycle_stage_id, st.stage_name, st.stage_order
