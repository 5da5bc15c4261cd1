"""memoires-ld: Osons' mémoires d'action as linked open data."""

__version__ = "0.1.0"
