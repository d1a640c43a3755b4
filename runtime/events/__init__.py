"""Domain events: the outbox, its publisher and the stream. See ``docs/events.md``."""
