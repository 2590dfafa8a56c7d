"""Administration of the data exchange gateway (issue 5 item 7): members, catalogue, grants,
log search with evidence export, traffic per service."""
