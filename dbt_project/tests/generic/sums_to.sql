{#- Per group, a column sums to `total` (within `tolerance`): e.g. attribution weights to 1. -#}
{% test sums_to(model, column_name, group_by, total=1, tolerance=0.000001) %}
select {{ group_by | join(', ') }}, sum({{ column_name }}) as total
from {{ model }}
group by {{ group_by | join(', ') }}
having abs(sum({{ column_name }}) - {{ total }}) > {{ tolerance }}
{% endtest %}
