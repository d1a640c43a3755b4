"""State machines in the runtime: entities bound to machines, firing transitions, effects, timers."""
