-- Each rule of the catalogue against each stored year it applies to: its latest result at load (of
-- the rows kept) and in the latest `aquamind validate` audit. Nothing is re-checked here: each load
-- evaluated its rules where the rows were born and stored the results (meta.rule_evaluation).
-- Expected: a year rule for every stored year of its asset, a static rule for the static load
-- (year 0), a cross-year rule once (year 0) by the audit. A missing evaluation shows as NULL.
with rules as (
    select * from {{ source('meta', 'rule') }}
),

loads as (
    select
        asset,
        year,
        loaded_at,
        (select sum(n.value::bigint) from jsonb_each_text(rows) as n) as stored_rows
    from {{ source('meta', 'partition_load') }}
),

evaluations as (
    select * from {{ source('meta', 'rule_evaluation') }}
),

expected as (
    select r.rule, r.asset, r.scope, r.min_examined, l.year, l.stored_rows, l.loaded_at
    from rules as r
    inner join loads as l on l.asset = r.asset
    where r.scope in ('year', 'static')
    union all
    select r.rule, r.asset, r.scope, r.min_examined, 0 as year, sum(l.stored_rows), max(l.loaded_at)
    from rules as r
    inner join loads as l on l.asset = r.asset
    where r.scope = 'all'
    group by r.rule, r.asset, r.scope, r.min_examined
)

select
    e.rule,
    e.asset,
    e.scope,
    e.year,
    e.stored_rows,
    e.min_examined,
    kept.examined as load_examined,
    kept.violations as load_violations,
    kept.seconds as load_seconds,
    kept.evaluated_at = e.loaded_at as load_is_current,
    failed.evaluated_at as failed_load_at,
    failed.violations as failed_load_violations,
    audit.examined as audit_examined,
    audit.violations as audit_violations,
    audit.evaluated_at as audited_at,
    audit.evaluated_at >= e.loaded_at as audit_is_current
from expected as e
left join evaluations as kept
    on kept.rule = e.rule and kept.asset = e.asset and kept.year = e.year
    and kept.source = 'load' and kept.committed
left join evaluations as failed
    -- a load that rolled back after the stored one: the year kept its previous rows
    on failed.rule = e.rule and failed.asset = e.asset and failed.year = e.year
    and failed.source = 'load' and not failed.committed and failed.evaluated_at > e.loaded_at
left join evaluations as audit
    on audit.rule = e.rule and audit.asset = e.asset and audit.year = e.year and audit.source = 'audit'
