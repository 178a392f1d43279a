"""A small synthetic sky shared by the tests of sos_vo.simulate (a cone across the equator,
so that both SDSS (north) and SkyMapper (south) are present)."""

from __future__ import annotations

import pytest
from sky_region import CENTER, RADIUS_DEG

from sos_vo.simulate import simulate_sky

N_STARS = 30000


@pytest.fixture(scope="session")
def sky():
    return simulate_sky(center=CENTER, radius=RADIUS_DEG, n_stars=N_STARS, seed=11)
