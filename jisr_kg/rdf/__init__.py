"""RDF itself: namespaces, terms and the one table of formats. Imports nothing else of the package."""
