"""The store: an Oxigraph store on disk, and what is read back from it.

`store` opens, writes and replaces graphs; `records` reads back the mention and event records the
corpus stage works from; `query` and `export` answer SPARQL and write the whole graph out.
"""
