"""One article: read it, find its mentions, times and events, name what each mention refers to.

Everything here is a pure function of one article's text and metadata (and the spaCy pipeline), so
articles can be extracted in any order, in parallel, on other machines. Nothing here knows about the
corpus, the store or RDF.
"""
