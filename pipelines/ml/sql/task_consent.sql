-- Who may be contacted (returns nothing), from the temp view _task_contact_rows (the
-- CRM's contacts): temp tables _task_people (per contact and
-- per e-mail) and _task_accounts (per account: has a contact who may be contacted).
-- Do-not-contact blocks; not opted in blocks; where the source records consent for
-- some people, a person without it counts as not opted in.
create or replace temp table _task_contacts as
select
    contact_id,
    account_id,
    lower(email) as email,
    not coalesce(do_not_contact, false)
    and coalesce(
        opt_in,
        not exists (
            select 1 from _task_contact_rows as recorded
            where recorded.opt_in is not null
        )
    ) as contactable
from _task_contact_rows;

create or replace temp table _task_people as
select
    contact_id,
    bool_and(contactable) as contactable
from _task_contacts
group by contact_id;

create or replace temp table _task_emails as
select
    email,
    bool_and(contactable) as contactable
from _task_contacts
where email is not null
group by email;

create or replace temp table _task_accounts as
select
    account_id,
    bool_or(contactable) as contactable
from _task_contacts
where account_id is not null
group by account_id;
