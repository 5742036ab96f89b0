-- Does the stored data keep every rule of the catalogue? One row per rule, summed over the years
-- of rule_results: what the loads examined and found, what the latest audit found, and how many
-- stored years lack the rule's load-time result (expected 0, like every violation count).
with rules as (
    select * from {{ source('meta', 'rule') }}
),

results as (
    select * from {{ ref('rule_results') }}
)

select
    r.rule,
    r.asset,
    r.scope,
    r.description,
    r.sections as reference_section,
    r.forms,
    count(s.year) as years_stored,
    count(s.year) filter (where s.scope <> 'all' and s.load_examined is null) as years_missing,
    sum(s.load_examined)::bigint as load_examined,
    sum(s.load_violations)::bigint as load_violations,
    sum(s.load_seconds) as load_seconds,
    count(s.failed_load_at) as failed_loads,
    sum(s.audit_examined)::bigint as audit_examined,
    sum(s.audit_violations)::bigint as audit_violations,
    min(s.audited_at) as audited_at,
    coalesce(bool_and(s.audit_is_current), false) as audit_is_current
from rules as r
left join results as s on s.rule = r.rule
group by r.rule, r.asset, r.scope, r.description, r.sections, r.forms
