"""The kinds Vectis ships with; importing this module registers them.

A new kind is a module that calls :func:`rules.kinds.register_kind`, imported here (or by the
extension that provides it); the pipeline itself never changes.
"""

from rules import approval_route, automation, label, mmoq, promotion, state_machine, tax_rule, tender_cascade  # noqa: F401

KINDS = ("approval_route", "automation", "label", "mmoq_cap", "promotion", "state_machine", "tender_cascade")
