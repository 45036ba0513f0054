"""The corpus: what all articles' mentions refer to, together.

Resolution (one entity per real-world thing across the corpus), linking to Wikidata, and merging the
articles' event mentions into reported events. Pure functions of records (kg.model) and of the
Wikidata indexes: the store, RDF and the running of the stage are the layers above.
"""
