"""Where the app is and which pages it has: for the tests and the benchmark, which drive
the app from outside (``app.py`` itself cannot be imported: it draws on import)."""

from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
# Page modules under views/, in navigation order; the first is the default page.
PAGES = (
    "overview",
    "pipeline",
    "forecast",
    "leads",
    "customers",
    "campaigns",
    "team",
    "quality",
    "models",
)


def url_path(page: str) -> str:
    """The page's URL path: st.navigation names it after the file; the default is "/".

    Args:
        page: a page module under views/ (one of PAGES).

    Returns:
        The path after the app's address: "" for the default page, else the name.
    """
    return "" if page == PAGES[0] else page
