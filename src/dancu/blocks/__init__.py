"""Building blocks: shared capabilities with typed service functions and HTTP APIs.

Rule: nothing under ``dancu.blocks`` imports ``dancu.apps`` (checked by a test).
"""
