"""SPARQL stores: loading the built dataset into one (push)."""
