-- Users that can own things, with a label for the filters (their name, else their id).
select
    user_id,
    team_name,
    role,
    coalesce(name, user_id) as label
from marts.dim_users
order by label
