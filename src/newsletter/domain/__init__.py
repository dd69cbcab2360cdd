"""The domain: model types, the error tree, clock, tokens and pure predicates; no I/O."""
