"""The web layer: the Litestar app, one module per resource, and what their handlers share (base)."""
