"""Synthetic population: realistic, deterministic (seeded) Vietnamese people and households, and a
streaming loader into the registry. Feeds the demo, the tests and every benchmark."""
