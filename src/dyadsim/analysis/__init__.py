"""Which mechanism matters: path-specific effects (:mod:`.mechanisms`), edge and loop
knock-outs (:mod:`.knockout`), global sensitivity (:mod:`.sensitivity`), all on parameter
batches of the engine (:mod:`dyadsim.engine.batch`) with common random numbers, and their
scale-out on any ``concurrent.futures`` executor, a Dask cluster included (:mod:`.scale`)."""
