"""Exceptions raised by sos-vo.  Each message names the column, file, row count or value at fault."""

from __future__ import annotations


class SosVoError(Exception):
    """Base class of every error sos-vo raises on purpose."""


class SchemaError(SosVoError, ValueError):
    """A table lacks a required column, or a column has the wrong unit or dtype."""


class EmptyInputError(SosVoError, ValueError):
    """An input table (or a table left after the cuts) has no rows."""


class LabelRangeError(SosVoError, ValueError):
    """Labels outside the physical range the method accepts."""


class ModelFormatError(SosVoError, ValueError):
    """A model folder is missing files, has another format version, or is for another survey."""


class SyntheticModelWarning(UserWarning):
    """A model trained on the synthetic sky is being applied to data from a real archive."""


class MissingExtraError(SosVoError, ImportError):
    """An optional dependency is not installed; the message names the extra that provides it."""
