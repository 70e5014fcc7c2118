"""Connect: random stranger video chat and contacts on one signaling engine."""
