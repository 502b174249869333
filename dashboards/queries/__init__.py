"""The dashboards' queries, one module per page domain, each a function over a ``.sql`` file.

The SQL lives in ``dashboards/sql/<name>.sql`` (sqlfluff lints it); these functions run it
through :func:`dashboards.data.query_file`, cached. Values (dates, owners, segments,
search text…) only ever travel as DuckDB parameters (``$name``); nothing a user typed is
ever put into the text.

The filters' parameters (:meth:`dashboards.filters.Filters.params`):

- ``$start``, ``$end`` (dates, inclusive) and ``$end_excl`` (the day after ``$end``);
- ``$by_owner`` / ``$owners``: when true, only rows owned by one of the users in the list
  (the chosen owners, else everyone in the chosen teams);
- ``$by_segment`` / ``$segments``: when true, only accounts of one of these tiers;
- ``$as_of``: the data's today.

A query "in scope" applies them as
``(not $by_owner or list_contains($owners::varchar[], <owner column>))`` and the same
with ``$by_segment`` on the account's tier. The deals, MRR movements and leads in scope
are defined once (``dashboards/sql/scoped_*.sql``); a query reads them as the CTEs
``opps``, ``mrr`` and ``leads`` through :func:`dashboards.queries.scope.query_in_scope`.
"""
