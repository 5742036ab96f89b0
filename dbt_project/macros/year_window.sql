{#-
  Pre-hook of the year-incremental marts: inside the model's transaction, remove every row of the
  years being rebuilt, so a year that now yields no rows does not keep stale ones (delete+insert
  alone only deletes the years present in the new rows).
-#}
{% macro delete_year_window() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where year between {{ var('min_year', 2015) }} and {{ var('max_year', 2024) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#-
  The year window as a reading_time range (one day of slack either side), added next to the year
  filter on readings so TimescaleDB can skip chunks when the readings table is a hypertable
  (its chunks follow reading_time, not year).
-#}
{% macro reading_time_window(column='reading_time') -%}
    {{ column }} >= timestamptz '{{ var("min_year", 2015) | int }}-01-01 00:00:00+00' - interval '1 day'
    and {{ column }} < timestamptz '{{ (var("max_year", 2024) | int) + 1 }}-01-01 00:00:00+00' + interval '1 day'
{%- endmacro %}
