"""TapClient and region queries against the local DaCHS mirror (marked ``dachs``)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import astropy.units as u
import numpy as np
import pytest
import requests
from astropy.coordinates import SkyCoord
from astropy_healpix import HEALPix

from sos_vo.archives import gaia, regions
from sos_vo.archives.exceptions import QueryError, QueryOverflowError, ServiceError, TransientError
from sos_vo.archives.tap import TapClient

pytestmark = pytest.mark.dachs


def _ids(table):
    return set(np.asarray(table["source_id"]).tolist())


def test_cone_exact_rows(dachs_url, fixture_tables):
    g = fixture_tables["gaia_source"]
    got = gaia.query_region(regions.parse_region("circle 52.3 7.6 0.7deg"), tap_url=dachs_url)
    sep = SkyCoord(g["ra"], g["dec"], unit="deg").separation(SkyCoord(52.3, 7.6, unit="deg"))
    expected = set(np.asarray(g["source_id"][sep.deg <= 0.7]).tolist())
    assert len(expected) > 20
    assert _ids(got) == expected
    assert len(got) == len(expected)


def _inside_convex(vertices, ra, dec):
    """Independent test: on the inner side of every great-circle edge (either orientation)."""
    def vec(a, d):
        a, d = np.radians(a), np.radians(d)
        return np.stack([np.cos(d) * np.cos(a), np.cos(d) * np.sin(a), np.sin(d)], axis=-1)
    v = vec(np.array([p[0] for p in vertices]), np.array([p[1] for p in vertices]))
    p = vec(np.asarray(ra), np.asarray(dec))
    sides = np.stack([p @ np.cross(v[i], v[(i + 1) % len(v)]) for i in range(len(v))])
    return np.all(sides > 0, axis=0) | np.all(sides < 0, axis=0)


def test_polygon_exact_rows(dachs_url, fixture_tables):
    g = fixture_tables["gaia_source"]
    verts = [(50.5, 6.0), (52.5, 5.5), (53.0, 7.5), (51.0, 8.0)]
    region = regions.parse_region("polygon " + " ".join(f"{a} {d}" for a, d in verts))
    got = gaia.query_region(region, tap_url=dachs_url)
    expected = set(np.asarray(g["source_id"][_inside_convex(verts, g["ra"], g["dec"])]).tolist())
    assert len(expected) > 20
    assert _ids(got) == expected


def test_moc_exact_rows(dachs_url, fixture_tables):
    g = fixture_tables["gaia_source"]
    hp = HEALPix(2**7, order="nested")
    pix = hp.lonlat_to_healpix(np.asarray(g["ra"]) * u.deg, np.asarray(g["dec"]) * u.deg)
    cells = np.unique(pix[:3])
    got = gaia.query_region(regions.parse_region("healpix 7 " + " ".join(map(str, cells))),
                            tap_url=dachs_url)
    expected = set(np.asarray(g["source_id"][np.isin(pix, cells)]).tolist())
    assert len(expected) > 0
    assert _ids(got) == expected


def test_async_equals_sync(dachs_url):
    c = TapClient(dachs_url)
    q = gaia.region_query(regions.parse_region("circle 52 8 0.4"))
    assert _ids(c.run(q, use_async=True)) == _ids(c.run(q))


def test_adql_error(dachs_url, fast_client_kwargs):
    c = TapClient(dachs_url, **fast_client_kwargs)
    with pytest.raises(QueryError, match="no_such_column|nosuch|Could not"):
        c.run("SELECT no_such_column FROM gaiadr3.gaia_source")


def test_overflow_is_an_error(dachs_url):
    c = TapClient(dachs_url, row_limit=10)
    with pytest.raises(QueryOverflowError) as info:
        c.run(gaia.region_query(regions.parse_region("circle 52 8 1")))
    assert info.value.maxrec == 10


def test_unreachable_server(fast_client_kwargs):
    c = TapClient("http://127.0.0.1:9/tap", **fast_client_kwargs)
    with pytest.raises(ServiceError, match="unreachable"):
        c.check_service()


def test_not_a_tap_service(dachs_url, fast_client_kwargs):
    with pytest.raises(ServiceError, match="not a TAP service"):
        TapClient(dachs_url.rsplit("/tap", 1)[0] + "/static", **fast_client_kwargs).check_service()
    with pytest.raises(ServiceError, match="http"):
        TapClient("ftp://example.org/tap")


class _Proxy(BaseHTTPRequestHandler):
    """Answers ``status`` (with Retry-After: 1) to the first ``fail_first`` requests of the
    methods in ``fail_methods``, then forwards to the real server."""

    def _handle(self):
        srv = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.command in srv.fail_methods and srv.failures < srv.fail_first:
            srv.failures += 1
            self.send_response(srv.status)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        r = requests.request(self.command, srv.target + self.path, data=body,
                             headers={"Content-Type": self.headers.get("Content-Type", "")},
                             allow_redirects=False, timeout=60)
        self.send_response(r.status_code)
        for k, v in r.headers.items():
            if k.lower() not in ("transfer-encoding", "connection", "content-encoding",
                                 "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(r.content)))
        self.end_headers()
        self.wfile.write(r.content)

    do_GET = do_POST = _handle

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy(dachs_url):
    def start(status, fail_first, fail_methods=("GET", "POST")):
        srv = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
        srv.target = dachs_url.rsplit("/tap", 1)[0]
        srv.status, srv.fail_first, srv.fail_methods, srv.failures = status, fail_first, \
            set(fail_methods), 0
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv, f"http://127.0.0.1:{srv.server_address[1]}/tap"
    servers = []
    yield start
    for s in servers:
        s.shutdown()


def test_429_retry_after_then_success(proxy, dachs_url):
    srv, url = proxy(429, 2)
    pauses = []
    c = TapClient(url, retries=3, backoff=0.01, sleep=pauses.append)
    q = gaia.region_query(regions.parse_region("circle 52 8 0.3"))
    got = c.run(q)
    assert srv.failures == 2
    assert pauses == [1.0, 1.0]  # the server's Retry-After, not the 0.01 s back-off
    assert _ids(got) == _ids(TapClient(dachs_url).run(q))


def test_5xx_exhausts_retries(proxy):
    srv, url = proxy(503, 100, fail_methods=("POST",))
    pauses = []
    c = TapClient(url, retries=2, backoff=0.01, sleep=pauses.append)
    with pytest.raises(TransientError, match="after 3 tries"):
        c.run("SELECT TOP 1 source_id FROM gaiadr3.gaia_source")
    assert srv.failures == 3
    assert len(pauses) == 2
