-- Scored leads with what a task needs: name, owner, whether its person may be contacted.
select
    scores.lead_id as entity_id,
    coalesce(leads.company, leads.email) as name,
    leads.owner_user_id as owner_id,
    scores.score,
    scores.next_action,
    scores.reasons,
    scores.as_of,
    scores.valid_until,
    coalesce(people.contactable, emails.contactable, true) as contactable
from ml.lead_scores as scores
left join staging.stg_crm__leads as leads on scores.lead_id = leads.lead_id
left join _task_people as people on leads.contact_id = people.contact_id
left join _task_emails as emails on lower(leads.email) = emails.email
