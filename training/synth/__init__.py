"""The synthetic report-history generator (``tipscore generate``)."""
