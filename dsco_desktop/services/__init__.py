"""Use cases over a store and a DSCO client; report progress by callback; no Qt."""
