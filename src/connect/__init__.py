"""Connect: random stranger video chat and contacts on one signaling engine."""

from connect import compiled

compiled.install()  # before any compiled module can be imported (see connect.compiled)
