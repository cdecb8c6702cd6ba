"""The HTTP core: request descriptions, the request core, transports, time limits, tracing."""
