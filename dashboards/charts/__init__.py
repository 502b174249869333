"""The dashboards' charts (Altair): one style (:mod:`.style`), the generic shapes every page
uses (:mod:`.generic`), and one module per page domain with that page's charts.

Every chart goes through :func:`.style.show`, which applies the same fonts, axes, colours
and legend placement, so a page never styles a chart itself.
"""
