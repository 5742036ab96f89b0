{#-
  dbt's own get_where_subquery (what `{{ model }}` becomes in a generic test with a `where` config),
  plus one placeholder: `where: "__year_window__"` filters to the years the run rebuilds
  (in_year_window). A test's `where` cannot call project macros (dbt renders test configs without
  them), so the year-incremental marts' tests name the window this way instead of retyping it.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- if '__year_window__' in where -%}
            {%- set where = where | replace('__year_window__', in_year_window('year')) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
