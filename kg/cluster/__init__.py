"""kg.cluster: `kg build --engine dask`, the build spread over a Dask cluster, with the same graph as on one machine.

Why a package of its own: one machine stops being enough long before a news archive stops growing, and
the per-article work of a build (read, parse, extract, the article's graph, its SHACL check, its corpus
records) is already pure; what was missing is running it on an existing distributed engine (Dask: pure
Python, the same process model as `--jobs`, a cluster up in seconds) rather than a home-made one, and
then running the corpus stage over what the workers made. Nothing here is imported by `import kg`: Dask
is an extra (`pip install newskg[dask]`), and `kg build` imports this package only for `--engine dask`.

- inputs: partitions of the inputs (files, byte ranges of large JSON Lines files; local paths or fsspec URLs).
- tasks: the per-partition work on the workers, writing shards; only counts come back.
- shards: the shard files under the shared work folder (N-Quads, Parquet), written whole or not at all.
- load: the one-machine build's article decisions over the shards' index, and the bulk load into Oxigraph
  (each partition loaded as soon as it is done, put right once every decision is taken).
- resolve: corpus-wide resolution as a shuffle by name, union-find over distinct names, a shuffle by cluster.
- link: the two rounds of Wikidata linking over entity partitions, the index opened once per worker.
- events: event merging per independent component on the workers, minted on the driver.
- graph: a first build's corpus graph made on the workers in chunks (N-Quads, SHACL), bulk-loaded by the driver.
- engine: the driver: the cluster, the plan, the tasks, the load, the corpus stage, progress and timings.
(`kg build --engine dask`'s progress bar and messages are the CLI's: kg/cli/cluster.py.)
"""

from .engine import ClusterReport, dask_build

__all__ = ["ClusterReport", "dask_build"]
