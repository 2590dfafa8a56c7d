"""Data exchange gateway (LGSP, model 25; issue 5): members, subsystems, a service catalogue,
purpose-bound access grants, an in-process gateway with signed and hash-chained message log,
evidence bundles, the citizen data tracker and change notifications. See ADR 0010."""
