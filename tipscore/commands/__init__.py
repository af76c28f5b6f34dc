"""The ``tipscore`` commands, one module per group; ``tipscore.cli`` assembles them.

- ``intake``: parse;
- ``data``: generate, validate-data;
- ``model``: train, evaluate, score;
- ``release``: audit, promote;
- ``service``: serve, keys, export-decisions.

Each command parses its options, calls the package that owns the work, prints, and sets
the exit code (2 for bad input, 1 for a negative verdict).
"""
