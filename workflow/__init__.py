"""The generic workflow engine: flow definitions, the one write path, storage and interfaces."""
