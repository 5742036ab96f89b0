{#-
  Checks shared by the data-quality marts. Each returns rows (year, rule, examined, violations)
  for the owning years var('min_year') .. var('max_year'); the callers union and sum them.
-#}

{#-
  Rows that carry an assignment_id: the row must lie inside its assignment's window
  [assignment_date, window_end_exclusive) (and carry the assignment's batch / container when it has
  those columns); no date after the history; optionally no negative fish.
  Assignments are looked up over every owning year up to max_year: a row of 2018 may belong to an
  assignment that started (and is owned by) 2016.
-#}
{% macro dq_assignment_row_checks(rule, model_name, date_column, match_batch=false, match_container=false, negative_condition=none) %}
    select checked.year, v.rule, v.examined, v.violations
    from (
        select
            r.year,
            count(*) as n_rows,
            count(*) filter (where
                a.assignment_id is null
                or r.{{ date_column }} < a.assignment_date
                or r.{{ date_column }} >= a.window_end_exclusive
                {%- if match_batch %}
                or r.batch_id is distinct from a.batch_id
                {%- endif %}
                {%- if match_container %}
                or r.container_id is distinct from a.container_id
                {%- endif %}
            ) as n_outside_window,
            count(*) filter (where r.{{ date_column }} > {{ history_end() }}) as n_future,
            count(*) filter (where {{ negative_condition or 'false' }}) as n_negative
        from {{ ref(model_name) }} as r
        left join (
            select assignment_id, batch_id, container_id, assignment_date, window_end_exclusive
            from {{ ref('stg_batch_container_assignment') }}
            where year <= {{ year_window_last() }}
        ) as a on a.assignment_id = r.assignment_id
        where {{ in_year_window('r.year') }}
        group by r.year
    ) as checked
    cross join lateral (
        values
            ('{{ rule }}', checked.n_rows, checked.n_outside_window),
            ('future_dates', checked.n_rows, checked.n_future)
            {%- if negative_condition %},
            ('negative_fish', checked.n_rows, checked.n_negative)
            {%- endif %}
    ) as v (rule, examined, violations)
{% endmacro %}

{#- Rows of a yearly table without an assignment: future dates and (optionally) negative fish. -#}
{% macro dq_plain_row_checks(model_name, future_condition, negative_condition=none) %}
    select checked.year, v.rule, v.examined, v.violations
    from (
        select
            year,
            count(*) as n_rows,
            count(*) filter (where {{ future_condition }}) as n_future,
            count(*) filter (where {{ negative_condition or 'false' }}) as n_negative
        from {{ ref(model_name) }}
        where {{ in_year_window('year') }}
        group by year
    ) as checked
    cross join lateral (
        values
            ('future_dates', checked.n_rows, checked.n_future)
            {%- if negative_condition %},
            ('negative_fish', checked.n_rows, checked.n_negative)
            {%- endif %}
    ) as v (rule, examined, violations)
{% endmacro %}
