"""Administrative-unit tables (filled by ``dancu load_adminunits``)."""
