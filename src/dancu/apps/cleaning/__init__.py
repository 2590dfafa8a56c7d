"""Data-cleaning jobs for officials (``/cleaning/``): upload, map, run, review, export (issue 8)."""
