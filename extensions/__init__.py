"""Built-in extension packs, one folder each, loaded by ``runtime.packs`` through the extension API.

Nothing in ``runtime/`` imports these modules (``tests/test_layering.py`` checks it).
"""
