-- What was the daily mean / min / max of each parameter read several times a day (temperature and
-- dissolved oxygen) in each container? A parameter read once a day is its own daily value: query
-- stg_environmental_reading for it (at full scale this mart would otherwise copy ~90 M rows).
-- One aggregate per year, unioned: each year's ~2.3 M groups hash in memory, where one aggregate
-- over ten years (23 M groups) spills to disk and takes 5x longer.
{{ config(
    pre_hook="set local work_mem = '256MB'",
    indexes=[{'columns': ['year']}, {'columns': ['container_id', 'parameter_id', 'reading_date']}]
) }}

with parameters as (
    select parameter_id, parameter_code, unit
    from {{ ref('stg_environmental_parameter') }}
    where readings_per_day > 1
),

daily as (
    {%- for year in range(year_window_first(), year_window_last() + 1) %}
    select
        year,
        reading_date,
        container_id,
        parameter_id,
        avg(value) as mean_value,
        min(value) as min_value,
        max(value) as max_value,
        count(*) as reading_count
    from {{ ref('stg_environmental_reading') }}
    where year = {{ year }}
        and parameter_id in (select parameter_id from parameters)
    group by year, reading_date, container_id, parameter_id
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

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
from daily
inner join parameters on parameters.parameter_id = daily.parameter_id
