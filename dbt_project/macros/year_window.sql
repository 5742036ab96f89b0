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
