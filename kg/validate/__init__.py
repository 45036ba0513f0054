"""Validation: SHACL shapes (shapes/) over what a build wrote or over a whole store.

`check` runs the shapes and reports; `shacl` compiles them to SPARQL for Oxigraph, the fast engine.
"""
