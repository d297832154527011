"""SPARQL: the stored-query catalogue, parameter binding, the engines and their results, the remote client."""
