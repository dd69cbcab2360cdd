"""The domain: model types, the error tree, clock, tokens and pure predicates; no I/O.
French text folding (french.py) and funding facts (funding.py) are pure readers of text."""
