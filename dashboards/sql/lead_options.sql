-- The lead sources present among scored leads ('unknown' for none).
select distinct coalesce(l.source, 'unknown') as source
from publish.lead_scores as s
inner join marts.fct_leads as l on s.lead_id = l.lead_id
order by source
