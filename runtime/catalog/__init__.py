"""catalog"""
# Registers the autogenerate comparator that ignores the full-text objects (see search_index).
from runtime.catalog import search_index as _search_index  # noqa: F401,E402
