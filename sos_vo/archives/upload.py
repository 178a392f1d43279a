"""Upload joins: send a local table in chunks as ``TAP_UPLOAD.<name>`` and stack the results.

One helper for every upload join of the package (Gaia DR3 astrometry by id, VizieR rows by
Gaia DR3 id or by position): the rows are cut into chunks of ``chunk_rows`` (a synchronous
upload has a size limit: GAVO DaCHS refuses more than ``maxSyncUploadSize`` = 500 000 bytes),
each chunk runs through :class:`~sos_vo.archives.tap.TapClient` (so a truncated result raises)
and the chunk results are stacked.
"""

from __future__ import annotations

from astropy.table import Table, vstack


def run_upload_join(client, query: str, name: str, rows: Table, chunk_rows: int, *,
                    use_async: bool = False) -> Table:
    """Run ``query`` once per chunk of ``rows`` uploaded as ``TAP_UPLOAD.<name>``.

    Parameters
    ----------
    client : sos_vo.archives.tap.TapClient
        Service to query.
    query : str
        ADQL joining ``TAP_UPLOAD.<name>``.
    name : str
        Upload table name.
    rows : astropy.table.Table
        Rows to upload (at least one).
    chunk_rows : int
        Rows per job (>= 1).
    use_async : bool
        Run each job asynchronously.

    Returns
    -------
    astropy.table.Table
        The results of all chunks, stacked (metadata of the first).
    """
    chunk = int(chunk_rows)
    if chunk < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk}")
    parts = [client.run(query, use_async=use_async, uploads={name: rows[i:i + chunk]})
             for i in range(0, len(rows), chunk)]
    return vstack(parts, metadata_conflicts="silent") if len(parts) > 1 else parts[0]
