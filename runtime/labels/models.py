"""The catalog-wide label index: which product a label's predicate holds for, under which revision.

``product_label`` rows say "label L (revision R) matched product P at T"; schedule and channel are
not in it (they are checked when it is read), so time passing never needs a relabel.
``label_index_state`` records per label the revision the index was last computed for, and
``label_function_reference`` the predicate functions (``<extension>.<function>``) that revision
calls: what ``clearProductLabelStaleReferences`` clears when an extension drops a function.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from runtime.models import timestamp_field


class ProductLabel(SQLModel, table=True):
    __tablename__ = "product_label"
    __table_args__ = (Index("ix_product_label_label", "label_name", "product_id"),)

    product_id: int = Field(sa_column=Column(Integer, ForeignKey("product.id", ondelete="CASCADE"),
                                             primary_key=True))
    label_name: str = Field(sa_column=Column(String(64), primary_key=True))
    #: The label revision whose predicate matched: older than the live one means stale.
    label_revision: int
    computed_at: datetime = timestamp_field()


class LabelIndexState(SQLModel, table=True):
    __tablename__ = "label_index_state"

    label_name: str = Field(sa_column=Column(String(64), primary_key=True))
    #: The revision the index rows were last computed for.
    label_revision: int
    computed_at: datetime = timestamp_field()
    #: Products matched at that run.
    product_count: int = Field(default=0)


class LabelFunctionReference(SQLModel, table=True):
    __tablename__ = "label_function_reference"
    __table_args__ = (Index("ix_label_function_reference_extension", "extension", "function"),)

    label_name: str = Field(sa_column=Column(String(64), primary_key=True))
    #: The pack namespace of the function (``acme`` in ``acme.is_gold``).
    extension: str = Field(sa_column=Column(String(64), primary_key=True))
    function: str = Field(sa_column=Column(String(128), primary_key=True))
    label_revision: int
