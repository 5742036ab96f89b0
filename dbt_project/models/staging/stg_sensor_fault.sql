-- The sensor faults' ground truth: what went wrong with a sensor from start_time until end_time.
select
    id as sensor_fault_id,
    year,
    sensor_id,
    container_id,
    parameter_id,
    kind,
    start_time,
    end_time,
    magnitude
from {{ source('environmental', 'sensor_fault') }}
