-- How much of the available container capacity was used each month, per hall, freshwater station,
-- sea area and geography, and how close did stocking come to the containers' biomass limits?
--   utilization_pct = occupied container-days / available container-days (every container, every day
--   it is in service: from its commissioning, before its retirement)
--   max_density_kg_m3 = highest biomass / volume of any container-day
--   density_limit_kg_m3 = the highest container limit (max_biomass_kg / volume) in the group
--   max_pct_of_biomass_limit = highest biomass / container max_biomass_kg of any container-day

{%- set levels = [
    ('hall', 'hall_id', 'hall_name'),
    ('freshwater_station', 'freshwater_station_id', 'station_name'),
    ('sea_area', 'area_id', 'area_name'),
    ('geography', 'geography_id', 'geography_name'),
] %}

with container_months as (
    -- Days occupied and the peak biomass per container-month, as the batches load summed them from the
    -- daily state it wrote (a container holds at most one assignment a day: the rule no_double_booking).
    -- A container's volume and limit are fixed, so the peak density is the peak biomass over them.
    select
        container_months.year,
        container_months.month_start,
        container_months.container_id,
        container_months.occupied_days,
        container_months.max_biomass_kg / nullif(locations.volume_m3, 0) as max_density_kg_m3,
        100.0 * container_months.max_biomass_kg / nullif(locations.max_biomass_kg, 0) as max_pct_of_biomass_limit
    from {{ ref('stg_container_month') }} as container_months
    inner join {{ ref('int_container_location') }} as locations on locations.container_id = container_months.container_id
    where {{ in_year_window('container_months.year') }}
),

locations as (
    select * from {{ ref('int_container_location') }}
),

months as (
    -- every month of every year that has stored daily state
    select
        years.year,
        month_start::date as month_start,
        ((month_start + interval '1 month')::date - month_start::date) as days_in_month
    from (select distinct year from container_months) as years
    cross join lateral generate_series(
        make_date(years.year, 1, 1), make_date(years.year, 12, 1), interval '1 month'
    ) as month_start
),

container_grid as (
    select
        months.year,
        months.month_start,
        greatest(0, least(months.month_start + months.days_in_month,
                          coalesce(locations.decommissioned_on, months.month_start + months.days_in_month))
                    - greatest(months.month_start, locations.commissioned_on)) as days_in_service,
        locations.*,
        coalesce(container_months.occupied_days, 0) as occupied_days,
        container_months.max_density_kg_m3,
        container_months.max_pct_of_biomass_limit
    from months
    cross join locations
    left join container_months
        on container_months.year = months.year
        and container_months.month_start = months.month_start
        and container_months.container_id = locations.container_id
    where locations.commissioned_on < months.month_start + months.days_in_month
        and coalesce(locations.decommissioned_on, months.month_start + months.days_in_month) > months.month_start
)

{% for level, id_column, name_column in levels %}
select
    year,
    month_start,
    '{{ level }}' as level,
    {{ id_column }} as unit_id,
    {{ name_column }} as unit_name,
    geography_code,
    geography_name,
    environment,
    count(*) as containers,
    sum(days_in_service) as available_container_days,
    sum(occupied_days)::bigint as occupied_container_days,
    100.0 * sum(occupied_days)::double precision / nullif(sum(days_in_service), 0) as utilization_pct,
    max(max_density_kg_m3) as max_density_kg_m3,
    max(density_limit_kg_m3) as density_limit_kg_m3,
    max(max_pct_of_biomass_limit) as max_pct_of_biomass_limit
from container_grid
where {{ id_column }} is not null
group by year, month_start, {{ id_column }}, {{ name_column }}, geography_code, geography_name, environment
{% if not loop.last %}union all{% endif %}
{% endfor %}
