"""`kg evaluate`: how good the graph is, measured against gold benchmarks (NER spans, kinds, Wikidata links).

`gold` reads benchmarks, `score` holds the scoring rules as pure functions, `run` builds the gold
texts through `kg build` and reads newskg's answers back from the store, `report` prints them.
"""
