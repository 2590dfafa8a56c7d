"""Record linkage: cleaning sector data against the population registry (issue 8, ADR 0012)."""
