"""The build pipeline: load, reason, derive the consensus view, validate, export, describe, cache."""
