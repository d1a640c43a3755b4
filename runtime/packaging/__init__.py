"""Packaging units: named packages (``each``, ``box``, ``case``) and each product's ladder of them
(``box`` = 12 base units). Cart and order lines store the chosen package; stock and caps count
base units (``quantity × multiplier``)."""
