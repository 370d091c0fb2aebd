"""Aggregates and their events: the tribe's rules, with no I/O."""
