"""Against the real archives: skipped unless SOS_VO_REMOTE_DATA=1 (marker ``remote_data``)."""

import pytest

from sos_vo.archives import conf, gaia, regions  # conf: the Conf object
from sos_vo.archives.tap import TapClient
from sos_vo.pipeline import query_region
from sos_vo.schema import joined_columns

pytestmark = pytest.mark.remote_data


def test_real_gaia_archive_is_a_tap_service():
    TapClient(conf.gaia_tap_url).check_service()


def test_real_vizier_is_a_tap_service():
    TapClient(conf.vizier_tap_url).check_service()


def test_real_joined_query_small_cone():
    # Pleiades, 3 arcmin: a handful of rows through every join and the server-side cuts
    result = query_region("circle 56.75 24.12 3arcmin", survey="sdss", cache_dir=False,
                          use_async=False, progress=False)
    rows = result.rows["sdss"]
    assert tuple(rows.colnames[:10]) == joined_columns("sdss")[:10]
    assert len(gaia.query_region(regions.parse_region("circle 56.75 24.12 1arcmin"))) > 0


def test_real_skymapper_and_sdss_small_cone():
    from sos_vo.archives import sdss, skymapper, vizier

    cone = regions.parse_region("circle 56.75 24.12 1arcmin")
    assert "psfmag_g" in sdss.query_region(cone).colnames
    assert len(vizier.query_table("pastel", regions.parse_region("circle 56.75 24.12 1deg"))) > 0
    assert "u_psf" in skymapper.query_region(regions.parse_region("circle 40 -30 1arcmin")).colnames
