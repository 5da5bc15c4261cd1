"""Exporters: the published fiches written back in the formats of their sources."""
