-- How much was harvested each year per geography and grade: live and gutted tonnes, fish, mean weight?

with lots as (
    select year, harvest_event_id, product_grade_id, unit_count, live_weight_kg, gutted_weight_kg
    from {{ ref('stg_harvest_lot') }}
    where {{ in_year_window('year') }}
),

events as (
    select harvest_event_id, batch_id, geography_id, is_early
    from {{ ref('stg_harvest_event') }}
    where {{ in_year_window('year') }}
),

geographies as (
    select * from {{ ref('stg_geography') }}
),

grades as (
    select * from {{ ref('stg_product_grade') }}
)

select
    lots.year,
    events.geography_id,
    geographies.geography_code,
    geographies.geography_name,
    lots.product_grade_id,
    grades.grade_code,
    grades.grade_name,
    count(distinct lots.harvest_event_id) as harvest_events,
    count(distinct events.batch_id) as batches,
    sum(lots.unit_count) as fish,
    sum(lots.unit_count) filter (where events.is_early) as fish_harvested_early,
    sum(lots.live_weight_kg) / 1000.0 as live_tonnes,
    sum(lots.gutted_weight_kg) / 1000.0 as gutted_tonnes,
    sum(lots.live_weight_kg) / nullif(sum(lots.unit_count), 0) as mean_live_weight_kg,
    sum(lots.gutted_weight_kg) / nullif(sum(lots.unit_count), 0) as mean_gutted_weight_kg
from lots
inner join events on events.harvest_event_id = lots.harvest_event_id
left join geographies on geographies.geography_id = events.geography_id
left join grades on grades.product_grade_id = lots.product_grade_id
group by 1, 2, 3, 4, 5, 6, 7
