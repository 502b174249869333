"""What sqlfluff sees for dbt's cross-database macros (``dbt.type_bigint()``, ``dbt.dateadd``).

sqlfluff lints the models with its Jinja templater, which has dbt's ``ref``/``source``/
``config`` but not the ``dbt`` namespace; these stand-ins render DuckDB SQL of the same
shape. They only feed the linter: dbt itself never imports this folder.
"""


def type_bigint():
    return "bigint"


def type_int():
    return "integer"


def type_float():
    return "float"


def type_numeric():
    return "numeric(28, 6)"


def type_string():
    return "varchar"


def type_timestamp():
    return "timestamp"


def type_boolean():
    return "boolean"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"date_add({from_date_or_timestamp}, interval ({interval}) {datepart})"


def datediff(first_date, second_date, datepart):
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
    order = f" {order_by_clause}" if order_by_clause else ""
    return f"string_agg({measure}, {delimiter_text}{order})"


def current_timestamp():
    return "now()"
