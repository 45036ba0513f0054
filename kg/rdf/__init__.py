"""RDF: every triple newskg writes, under its ontology (ontology/newskg.ttl).

`triples` writes an article's graph and the corpus graph's entities, resolution and reported events;
`links` writes the Wikidata link decisions. Nothing else makes triples.
"""
