"""Examples: a demo store, client scripts and an example extension pack (``example_pack``).

Nothing in ``runtime/`` imports this package (``tests/test_layering.py`` checks it).
"""
