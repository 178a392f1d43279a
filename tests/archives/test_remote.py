"""Against the real archives: skipped unless SOS_VO_REMOTE_DATA=1 (marker ``remote_data``)."""

import pytest

from sos_vo.archives import conf, gaia, regions
from sos_vo.archives.query import query_region
from sos_vo.archives.tap import TapClient
from sos_vo.schema import joined_columns

pytestmark = pytest.mark.remote_data


def test_real_gaia_archive_is_a_tap_service():
    TapClient(conf.conf.gaia_tap_url).check_service()


def test_real_vizier_is_a_tap_service():
    TapClient(conf.conf.vizier_tap_url).check_service()


def test_real_joined_query_small_cone():
    # Pleiades, 3 arcmin: a handful of rows through every join and the server-side cuts
    result = query_region("circle 56.75 24.12 3arcmin", survey="sdss", cache_dir=False,
                          use_async=False, progress=False)
    rows = result.rows["sdss"]
    assert tuple(rows.colnames[:10]) == joined_columns("sdss")[:10]
    assert len(gaia.query_region(regions.parse_region("circle 56.75 24.12 1arcmin"))) > 0
