"""What sqlfluff sees for ``adapter.dispatch(...)``: a call of a function of the macro's name.

The linter checks the models' SQL, not the macros' bodies: a dispatched macro renders as
``crmlens_<macro>(<args>)``, which parses like the expression the real macro returns; a
spine macro (``day_spine``, ``month_spine``) returns a select of its one column.
"""


def dispatch(macro_name, macro_namespace=None):
    def call(*args):
        expression = f"crmlens_{macro_name}({', '.join(str(a) for a in args)})"
        if macro_name.endswith("_spine"):
            column = macro_name.removesuffix("_spine")
            return f"select spine.{column} from {expression} as spine"
        return expression

    return call


def get_columns_in_relation(relation):
    return []


def quote(identifier):
    return f'"{identifier}"'
