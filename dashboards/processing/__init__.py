"""Turning query results into what a page shows: plain functions of DataFrames, one
module per page domain, and the formatting every page shares (:mod:`.formatting`).

Nothing here touches Streamlit or the database, so every function is tested on
hand-made frames.
"""
