-- Do the stored data's distributions per geography and year fall inside the bands docs/domain.md
-- gives (seeds/validation_bands.csv; geography ALL applies to both)? `within_band` is tested.
--   sea_monthly_mortality_pct: mean over the year's months of the sea mortality % (docs/domain.md §5)
--   harvest_mean_live_weight_kg: live kg per fish, early (ISA) harvests excluded (docs/domain.md §9)
--   harvest_gutted_to_live_ratio: gutted / live weight (docs/domain.md §9)
--   sea_temperature_annual_mean_c: mean of the daily means of temperature readings in sea pens (docs/domain.md §7)
--   sea_tgc: 1000 * sum(cube root weight gain) / sum(degree-days) over sea assignments (docs/domain.md §4)
--   biological_fcr: mean biological FCR of batches whose last harvest fell in the year (docs/domain.md §6)
with geographies as (
    select * from {{ ref('stg_geography') }}
),

sea_mortality as (
    select
        year::int as year,
        geography_code,
        'sea_monthly_mortality_pct' as metric,
        avg(mortality_pct) as value,
        count(*) as sample_size
    from {{ ref('mortality_monthly_by_geography') }}
    where environment = 'sea'
    group by 1, 2
),

harvest_lots as (
    select l.year::int as year, g.geography_code, l.unit_count, l.live_weight_kg, l.gutted_weight_kg
    from {{ ref('stg_harvest_lot') }} as l
    inner join {{ ref('stg_harvest_event') }} as e on e.harvest_event_id = l.harvest_event_id
    inner join geographies as g on g.geography_id = e.geography_id
    where not e.is_early
),

harvest_weight as (
    select year, geography_code, 'harvest_mean_live_weight_kg' as metric,
        sum(live_weight_kg) / nullif(sum(unit_count), 0) as value, count(*) as sample_size
    from harvest_lots
    group by 1, 2
),

gutted_ratio as (
    select year, geography_code, 'harvest_gutted_to_live_ratio' as metric,
        sum(gutted_weight_kg) / nullif(sum(live_weight_kg), 0) as value, count(*) as sample_size
    from harvest_lots
    group by 1, 2
),

sea_temperature as (
    select year, geography_code, 'sea_temperature_annual_mean_c' as metric,
        avg(daily_mean) as value, count(*) as sample_size
    from (
        select e.year::int as year, l.geography_code, e.reading_date, avg(e.mean_value) as daily_mean
        from {{ ref('env_daily_by_container_parameter') }} as e
        inner join {{ ref('int_container_location') }} as l on l.container_id = e.container_id
        where e.parameter_code = 'temperature' and l.is_sea
        group by 1, 2, 3
    ) as daily
    group by 1, 2
),

sea_tgc as (
    select
        s.year::int as year,
        l.geography_code,
        'sea_tgc' as metric,
        1000.0 * sum(cbrt(s.last_avg_weight_g) - cbrt(s.first_avg_weight_g))
            / nullif(sum(s.degree_days_before_last), 0) as value,
        count(*) as sample_size
    from {{ ref('assignment_year_summary') }} as s
    inner join {{ ref('int_container_location') }} as l on l.container_id = s.container_id
    where l.is_sea and s.state_days > 1 and s.degree_days_before_last > 0
    group by 1, 2
),

fcr as (
    select
        extract(year from f.last_harvest_date)::int as year,
        g.geography_code,
        'biological_fcr' as metric,
        avg(f.biological_fcr) as value,
        count(*) as sample_size
    from {{ ref('fcr_by_batch') }} as f
    inner join geographies as g on g.geography_id = f.geography_id
    where f.is_completed and f.biological_fcr is not null
    group by 1, 2
),

metrics as (
    select * from sea_mortality
    union all select * from harvest_weight
    union all select * from gutted_ratio
    union all select * from sea_temperature
    union all select * from sea_tgc
    union all select * from fcr
)

select
    m.metric,
    m.geography_code as geography,
    m.year,
    m.value,
    m.sample_size,
    b.lower,
    b.upper,
    b.reference_section,
    m.value between b.lower and b.upper as within_band
from metrics as m
inner join {{ ref('validation_bands') }} as b
    on b.metric = m.metric and b.geography in (m.geography_code, 'ALL')
where m.value is not null
