"""Errors of the jobs package."""
from __future__ import annotations

from runtime.errors import VectisError


class JobError(VectisError, ValueError):
    """A job that cannot be accepted. The message starts with the offending field's name."""
