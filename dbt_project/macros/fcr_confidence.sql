{#- Confidence of an FCR from the days since the last growth sample (none: low). -#}
{% macro fcr_confidence(days_column) -%}
    case
        when {{ days_column }} < 10 then 'very_high'
        when {{ days_column }} < 20 then 'high'
        when {{ days_column }} < 40 then 'medium'
        else 'low'
    end
{%- endmacro %}
