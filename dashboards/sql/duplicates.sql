-- Pairs of records that may be duplicates, of the $entities kinds (all when empty) and
-- matching with a score of at least $min_score, the surest first.
select
    entity,
    id_a,
    id_b,
    label_a,
    label_b,
    match_rule,
    score,
    matched_rules
from marts.dq_duplicate_candidates
where
    (len($entities::varchar[]) = 0 or list_contains($entities::varchar[], entity))
    and score >= $min_score
order by score desc, entity asc, id_a asc, id_b asc
