{#-
  The stored history as SQL date literals, from vars history_start_date / history_end_date
  (dbt_project.yml). Unlike min_year / max_year these are never narrowed to a run's years: a
  row of 2018 is "after the history" only past the last stored day, whichever years a run rebuilds.
-#}
{% macro history_start() -%}
    date '{{ var("history_start_date") }}'
{%- endmacro %}

{% macro history_end() -%}
    date '{{ var("history_end_date") }}'
{%- endmacro %}

{#- Exclusive end of an assignment window: departure_date, or the day after the history for an open one. -#}
{% macro window_end(departure_column) -%}
    coalesce({{ departure_column }}, {{ history_end() }} + 1)
{%- endmacro %}
