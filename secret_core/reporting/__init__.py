"""Tables and figures of the paper rebuilt from measured per-experiment summaries."""
