-- How many outbreaks of each disease started each year, per geography, and how long did they last?
with outbreaks as (
    select * from {{ ref('stg_disease_outbreak') }}
),

batches as (
    select batch_id, geography_id from {{ ref('stg_batch') }}
)

select
    extract(year from o.start_date)::int as year,
    g.geography_code,
    g.geography_name,
    o.disease_id,
    d.disease_code,
    d.disease_name,
    count(*) as outbreaks,
    count(distinct o.batch_id) as batches_affected,
    count(*) filter (where o.end_date is null) as outbreaks_ongoing,
    avg((o.end_date - o.start_date)::double precision) as mean_duration_days
from outbreaks as o
left join batches as b on b.batch_id = o.batch_id
left join {{ ref('stg_geography') }} as g on g.geography_id = b.geography_id
left join {{ ref('stg_disease') }} as d on d.disease_id = o.disease_id
group by 1, 2, 3, 4, 5, 6
