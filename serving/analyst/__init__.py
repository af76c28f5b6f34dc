"""The analyst side of the service: queue, report view, decisions, the page."""
