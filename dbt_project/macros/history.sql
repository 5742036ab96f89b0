{#- The stored history as SQL date literals: 2015-01-01 .. 2024-12-31 unless overridden by vars. -#}
{% macro history_start() -%}
    date '{{ var("history_start_date", "2015-01-01") }}'
{%- endmacro %}

{% macro history_end() -%}
    date '{{ var("history_end_date", "2024-12-31") }}'
{%- endmacro %}

{#- Exclusive end of an assignment window: departure_date, or the day after the history for an open one. -#}
{% macro window_end(departure_column) -%}
    coalesce({{ departure_column }}, {{ history_end() }} + 1)
{%- endmacro %}
