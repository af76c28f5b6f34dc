"""Watching the served champion: volume, completeness, drift and overrides (``tipscore monitor``)."""
