-- The detectors' flags: a sensor-day flagged as a fault of a kind.
select
    year,
    sensor_id,
    container_id,
    parameter_id,
    kind,
    flag_date,
    score
from {{ source('environmental', 'sensor_fault_flag') }}
