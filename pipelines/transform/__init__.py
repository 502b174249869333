"""Transform domain: the dbt project as Dagster assets (group `transform`)."""
