-- How long did each batch take from egg to harvest, and how long was it at sea?
--   sea_transfer_date: first day in a sea pen; days_in_freshwater = sea_transfer_date - start_date
--   days_egg_to_harvest / days_at_sea: to the last harvest day, for completed batches only
with batches as (
    select * from {{ ref('stg_batch') }}
),

sea_entry as (
    select
        a.batch_id,
        min(a.assignment_date) as sea_transfer_date,
        sum(a.population_count * a.avg_weight_g) / nullif(sum(a.population_count), 0) as smolt_weight_g
    from {{ ref('stg_batch_container_assignment') }} as a
    inner join {{ ref('int_container_location') }} as l on l.container_id = a.container_id
    where l.is_sea
    group by a.batch_id
),

harvests as (
    select
        e.batch_id,
        min(e.event_date) as first_harvest_date,
        max(e.event_date) as last_harvest_date,
        bool_or(e.is_early) as harvested_early
    from {{ ref('stg_harvest_event') }} as e
    group by e.batch_id
),

cycles as (
    select
        b.batch_id,
        b.batch_number,
        b.geography_id,
        b.start_date,
        s.sea_transfer_date,
        s.smolt_weight_g,
        h.first_harvest_date,
        h.last_harvest_date,
        coalesce(h.harvested_early, false) as harvested_early,
        b.actual_end_date is not null and h.last_harvest_date is not null as is_completed
    from batches as b
    left join sea_entry as s on s.batch_id = b.batch_id
    left join harvests as h on h.batch_id = b.batch_id
)

select
    cycles.*,
    sea_transfer_date - start_date as days_in_freshwater,
    case when is_completed then last_harvest_date - start_date end as days_egg_to_harvest,
    case when is_completed then last_harvest_date - sea_transfer_date end as days_at_sea
from cycles
