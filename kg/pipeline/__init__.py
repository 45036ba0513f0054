"""The pipeline: running the stages over many articles, on one machine.

`build` reads inputs and runs spaCy on `--jobs` processes; `writer` is the process that writes
article graphs into the store; `corpus` runs the corpus stage (resolve, link, merge events) and
writes the corpus graph.
"""
