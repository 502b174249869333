"""Code every model family shares."""
