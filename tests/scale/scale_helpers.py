"""Helpers shared by the scaling tests (a module with a unique name: ``from conftest import``
resolves to whichever test folder's conftest was imported first)."""

from __future__ import annotations

import numpy as np

SURVEY = "sdss"


def sorted_rows(table):
    """Table rows sorted by source_id (runs may write parts in any order)."""
    return table[np.argsort(np.asarray(table["source_id"]), kind="stable")]
