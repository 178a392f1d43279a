"""Scaling sos-vo out: streaming Parquet, HEALPix partitions, dask, run planning.

Modules
-------
parquet_io   astropy Table <-> Arrow conversion (units kept), atomic Parquet writing, schema checks
stream       predict a Parquet catalogue in bounded chunks (cuts, features, model, train_area,
             train_set, writing all stream); resumable runs with a manifest
partitions   HEALPix-partitioned Parquet (``Norder=k/Npix=p.parquet``) writing and listing
distributed  the same run over partitions on dask.distributed; ensemble members as tasks
plan         Gaia DR3 source counts per region, TAP jobs, download size and run time

Nothing here imports TensorFlow except the training tasks of :mod:`.distributed`.
"""
