"""The report contract and the one path from a report's metadata to a model row."""
