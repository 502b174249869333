{#- The CRM's own labels of each vocabulary, one row per (field, label): the canonical value
    each means and, for stages, its meaning, position and probability. Staging maps labels
    through it and keeps the CRM's own beside. -#}

with source as (

    select * from {{ source('ingest', 'vocabulary') }}

),

renamed as (

    select
        field,
        label,
        value,
        meaning,
        cast(position as {{ dbt.type_int() }}) as position,
        probability,
        origin
    from source

)

select * from renamed
