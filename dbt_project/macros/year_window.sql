{#-
  The years a run rebuilds: vars min_year .. max_year (dbt_project.yml: the whole stored range), or,
  when set, the environment variables AQUAMIND_DBT_MIN_YEAR / AQUAMIND_DBT_MAX_YEAR, which is how a
  Dagster year partition narrows it. They are read only while executing (`execute`), never while
  parsing: a window that changes from run to run then leaves dbt's partial parsing intact, where
  different --vars on every invocation force a full re-parse. `--vars '{"min_year": 2017,
  "max_year": 2017}'` still works from the command line. Every year filter goes through these macros.
-#}
{% macro year_window_first() -%}
    {{ return((env_var('AQUAMIND_DBT_MIN_YEAR', var('min_year')) if execute else var('min_year')) | int) }}
{%- endmacro %}

{% macro year_window_last() -%}
    {{ return((env_var('AQUAMIND_DBT_MAX_YEAR', var('max_year')) if execute else var('max_year')) | int) }}
{%- endmacro %}

{#- The filter `<column> between min_year and max_year`, e.g. `where {{ in_year_window('r.year') }}`. -#}
{% macro in_year_window(column='year') -%}
    {{ column }} between {{ year_window_first() }} and {{ year_window_last() }}
{%- endmacro %}

{#-
  Pre-hook of the year-incremental marts (folder config in dbt_project.yml): inside the model's
  transaction, remove every row of the years being rebuilt, so a year that now yields no rows does
  not keep stale ones (delete+insert alone only deletes the years present in the new rows).
-#}
{% macro delete_year_window() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ in_year_window('year') }}
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
    {{ column }} >= timestamptz '{{ year_window_first() }}-01-01 00:00:00+00' - interval '1 day'
    and {{ column }} < timestamptz '{{ year_window_last() + 1 }}-01-01 00:00:00+00' + interval '1 day'
{%- endmacro %}
