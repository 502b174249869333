"""crmlens dashboards: one Streamlit app, one page per question a manager asks.

Run with ``make dashboard`` (or ``streamlit run dashboards/app.py``). It reads only
the serving snapshot (``CRMLENS_SERVING_PATH``, default ``.crmlens/serving/current.duckdb``),
never the warehouse the pipeline writes, so it keeps answering while the pipeline runs.

The entry point draws what every page shares (navigation, sidebar filters, which
publication of the data is shown); each page module under ``views/`` only
orchestrates its queries, processing and charts. (Not ``pages/``: Streamlit treats a
``pages/`` folder beside the entry point as a legacy multipage app, and a first visit
straight to a page's URL would then run that page without this entry point.)
"""

import streamlit as st

from dashboards import data, filters, ui

st.set_page_config(
    page_title="crmlens",
    page_icon=":material/insights:",
    layout="wide",
    initial_sidebar_state="expanded",
)

PAGES = {
    "Sales": [
        st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("views/pipeline.py", title="Pipeline", icon=":material/filter_alt:"),
        st.Page("views/forecast.py", title="Forecast", icon=":material/trending_up:"),
        st.Page("views/leads.py", title="Leads", icon=":material/person_search:"),
    ],
    "Customers and marketing": [
        st.Page("views/customers.py", title="Customers", icon=":material/favorite:"),
        st.Page("views/campaigns.py", title="Campaigns", icon=":material/campaign:"),
    ],
    "Team and trust": [
        st.Page("views/team.py", title="Team and time", icon=":material/groups:"),
        st.Page("views/quality.py", title="Data quality", icon=":material/fact_check:"),
        st.Page("views/models.py", title="Models", icon=":material/model_training:"),
    ],
}

page = st.navigation(PAGES)
filters.sidebar()
ui.snapshot_caption()
if data.snapshot_version() is None:
    ui.no_data_yet(page.title)  # one clear message rather than one per section
else:
    with ui.section(None):  # whatever a page's own sections did not catch: no stack trace
        page.run()
