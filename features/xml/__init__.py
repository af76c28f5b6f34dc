"""Hardened CyberTipline XML intake: safe parsing, report and file details, parties."""
