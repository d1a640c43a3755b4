"""Label references to predicate functions, and clearing those an extension no longer provides.

A *label reference* is a ``label_function_reference`` row: label L, as indexed (revision R),
calls ``<extension>.<function>``. The index job writes them for every label it evaluates. When a
pack drops a function (or is removed), the labels calling it stop compiling; their references and
their index rows stay (another process may still have the pack) until
:func:`clear_stale_references` is called for that extension: it deletes that extension's
references whose function the registry no longer holds, and the index rows of the labels that
held them (search stops offering products by a label nobody can evaluate). Another extension's
references are never touched, whatever their function is called: names are ``<pack>.<name>``.
"""
from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlmodel import Session

from runtime.errors import BusinessError
from runtime.labels.errors import LabelErrorCode
from runtime.labels.models import LabelFunctionReference, LabelIndexState, ProductLabel
from runtime.packs.registry import Registry

#: A pack name, as ``schemas/extension.schema.json`` allows it (``core`` included).
EXTENSION_NAME = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


def provided_functions(registry: Registry, extension: str) -> set[str]:
    """The predicate function names ``extension`` registers in this process."""
    return {e.name for e in registry.entries("predicate_function") if e.pack == extension}


def clear_stale_references(session: Session, registry: Registry, extension: str) -> int:
    """Delete ``extension``'s references to functions it no longer provides; return how many.

    Each delete is conditional on the row still being there, so two concurrent calls clear (and
    count) each reference once between them."""
    if not isinstance(extension, str) or not EXTENSION_NAME.fullmatch(extension):
        raise BusinessError(LabelErrorCode.INVALID_EXTENSION_NAME,
                            f"extensionName: {extension!r} is not a pack name (lower-case letters, digits "
                            f"and '_', starting with a letter)", field="extensionName")
    provided = provided_functions(registry, extension)
    rows = session.execute(select(LabelFunctionReference.label_name, LabelFunctionReference.function)
                           .where(LabelFunctionReference.extension == extension)).all()
    cleared, labels = 0, set()
    for label, function in rows:
        if function in provided:
            continue
        done = session.execute(delete(LabelFunctionReference).where(
            LabelFunctionReference.label_name == label, LabelFunctionReference.extension == extension,
            LabelFunctionReference.function == function)).rowcount
        if done:
            cleared += done
            labels.add(label)
    if labels:
        session.execute(delete(ProductLabel).where(ProductLabel.label_name.in_(labels)))
        session.execute(delete(LabelIndexState).where(LabelIndexState.label_name.in_(labels)))
    return cleared
