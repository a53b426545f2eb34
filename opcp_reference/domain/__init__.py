"""Domain layer of the reference: pure functions over the store, no HTTP."""
