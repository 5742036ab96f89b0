{#-
  Local stand-in for dbt_utils.unique_combination_of_columns (same name, arguments and result):
  fails for every combination of the columns that occurs more than once (the grain of a model);
  NULL is a value like any other. dbt hub packages cannot be installed where this project is built;
  with dbt_utils in packages.yml, delete this file and prefix the tests with `dbt_utils.`.
-#}
{% test unique_combination_of_columns(model, combination_of_columns, quote_columns=false) %}
{%- if quote_columns -%}
    {%- set column_list = [] -%}
    {%- for column in combination_of_columns -%}
        {%- do column_list.append(adapter.quote(column)) -%}
    {%- endfor -%}
{%- else -%}
    {%- set column_list = combination_of_columns -%}
{%- endif -%}
{%- set columns_csv = column_list | join(', ') %}
select {{ columns_csv }}
from {{ model }}
group by {{ columns_csv }}
having count(*) > 1
{% endtest %}
