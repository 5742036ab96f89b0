-- How well do the detectors find the sensor faults? Event level, per kind: a fault is found when a
-- flag of its kind on its sensor overlaps its window (a flag covers its whole day); a flag is right
-- when it overlaps a fault of its kind on its sensor. Reads the faults and the flags only: the
-- detectors ran on the daily rollup as the readings streamed, nothing here touches the readings.

with faults as (
    select sensor_fault_id as id, sensor_id, kind, start_time, end_time
    from {{ ref('stg_sensor_fault') }}
),

flags as (
    select sensor_id, kind,
           (flag_date::timestamp at time zone 'UTC') as flag_start,
           ((flag_date + 1)::timestamp at time zone 'UTC') as flag_end
    from {{ ref('stg_sensor_fault_flag') }}
),

pairs as (  -- every overlapping (fault, flag) of one sensor and kind: a hash join, not a lookup per row
    select f.id as fault_id, g.sensor_id, g.kind, g.flag_start
    from faults f
    join flags g on g.sensor_id = f.sensor_id and g.kind = f.kind
                and g.flag_start < f.end_time and g.flag_end > f.start_time
),

per_fault as (
    select f.kind, count(*) as faults, count(p.fault_id) as faults_found
    from faults f
    left join (select distinct fault_id from pairs) p on p.fault_id = f.id
    group by f.kind
),

per_flag as (
    select g.kind, count(*) as flags, count(p.sensor_id) as flags_right
    from flags g
    left join (select distinct sensor_id, kind, flag_start from pairs) p
           on p.sensor_id = g.sensor_id and p.kind = g.kind and p.flag_start = g.flag_start
    group by g.kind
)

select
    coalesce(f.kind, g.kind) as kind,
    coalesce(f.faults, 0) as faults,
    coalesce(f.faults_found, 0) as faults_found,
    coalesce(g.flags, 0) as flags,
    coalesce(g.flags_right, 0) as flags_right,
    f.faults_found::double precision / nullif(f.faults, 0) as recall,
    g.flags_right::double precision / nullif(g.flags, 0) as precision,
    g.kind is not null as has_detector
from per_fault f
full join per_flag g on g.kind = f.kind
