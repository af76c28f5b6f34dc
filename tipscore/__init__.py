"""tipscore package."""
