-- What was the daily mean / min / max of each parameter in each container? A view over the daily
-- rollup the readings' load writes beside them (one row per sensor and day, and a container has one
-- sensor per parameter), with the parameter's code and unit: nothing here rescans the readings.
{{ config(materialized='view') }}

select
    daily.year,
    daily.reading_date,
    daily.container_id,
    daily.parameter_id,
    parameters.parameter_code,
    parameters.unit,
    daily.mean_value,
    daily.min_value,
    daily.max_value,
    daily.reading_count
from {{ ref('stg_environmental_reading_daily') }} as daily
inner join {{ ref('stg_environmental_parameter') }} as parameters on parameters.parameter_id = daily.parameter_id
