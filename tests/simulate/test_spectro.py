"""SoS-Spectro labels carry the T25 Table 1 offset; PASTEL scatters around the truth."""

from __future__ import annotations

import numpy as np

from sos_vo.simulate import archive_tables as at
from sos_vo.simulate.spectro import RECALIBRATION


def test_sos_minus_truth_follows_table_1(sky):
    sos = sky.tables[at.SOS_SPECTRO]
    truth = sky.truth
    ids = np.asarray(truth["source_id"])
    order = np.argsort(ids)
    rows = order[np.searchsorted(ids[order], np.asarray(sos["source_id"]))]
    for k in ("teff", "logg", "feh"):
        delta = np.asarray(sos[k], float) - np.asarray(truth[k])[rows]
        # independent least-squares fit of Delta on the SoS values (T25 Eq. 2)
        X = np.column_stack([np.ones(len(sos)), np.asarray(sos["teff"]), np.asarray(sos["logg"]), np.asarray(sos["feh"])])
        coef = np.linalg.lstsq(X, delta, rcond=None)[0]
        pred_fit = X @ coef
        pred_paper = X @ np.array(RECALIBRATION[k])
        assert np.median(np.abs(pred_fit - pred_paper)) < 0.1 * np.std(delta) + 1e-9, k
