"""Could the query workers share one copy of the store in memory? What forking after the copy would keep shared.

`kg serve` gives each query worker process its own in-memory copy of the store (the timeout kills a process;
a thread cannot be stopped, see bench/README.md). One way to hold a single copy and still kill per query: a
parent process copies the store once and forks the workers, which share its pages copy-on-write. This measures
whether the pages stay shared: it copies a store into memory, forks a child that runs the analyses a worker
runs, and reads from /proc how much of the copy the child has had to make its own (Private_Dirty) after each.

    python bench/shared_copy.py /tmp/kg-race-1m/store-1000000

A query that reads the in-memory store writes to the pages it visits (Oxigraph's in-memory storage counts
references to the quads it walks over), so what a worker reads becomes its own copy.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pyoxigraph as ox

QUERIES = {
    "count every quad": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "entities by type": "SELECT ?type (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a ?type } GROUP BY ?type",
    "100,000 triples": "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 100000",
    "every label": "SELECT ?e ?l WHERE { ?e <http://www.w3.org/2000/01/rdf-schema#label> ?l }",
}


def memory(pid: int) -> dict[str, int]:
    """MB of the process: resident, proportional, shared with others and dirtied privately."""
    wanted = {"Rss:": "rss", "Pss:": "pss", "Shared_Dirty:": "shared", "Private_Dirty:": "private"}
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, *value = line.split()
        if key in wanted:
            out[wanted[key]] = int(value[0]) // 1024
    return out


def main() -> None:
    store_path = sys.argv[1]
    disk = ox.Store.read_only(store_path)
    store = ox.Store()
    store.bulk_load(disk.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
    quads = len(store)
    del disk
    parent = memory(os.getpid())
    print(f"{quads:,} quads in memory; the parent holds {parent['private']:,} MB of its own")
    ready, done = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(ready)
        time.sleep(0.5)
        os.write(done, b".")
        for text in QUERIES.values():
            result = store.query(text, use_default_graph_as_union=True)
            result.serialize(format=ox.QueryResultsFormat.JSON)
            os.write(done, b".")
        time.sleep(2)
        os._exit(0)
    os.close(done)
    for name in ("forked, nothing run yet", *QUERIES):
        os.read(ready, 1)
        time.sleep(0.3)
        use = memory(child)
        print(
            f"child after {name:<24} its own {use['private']:>6,} MB, still shared {use['shared']:>6,} MB, "
            f"PSS {use['pss']:>6,} MB"
        )
    os.waitpid(child, 0)


if __name__ == "__main__":
    main()
