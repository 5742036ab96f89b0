-- Lice species x gender x stage.
select
    id as lice_type_id,
    species as lice_species,
    gender,
    development_stage
from {{ source('health', 'lice_type') }}
