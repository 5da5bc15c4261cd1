"""memoires-ld: Osons' mémoires d'action as linked open data."""

import rdflib

__version__ = "0.1.0"

# Keep literals exactly as written. rdflib's normalisation rewrites lexical forms
# ("…Z" dateTimes become "+00:00") and re-serialises rdf:HTML through minidom, dropping
# closing tags: the same data would then differ between rdflib and pyoxigraph, and
# content hashes and ETags would change for nothing.
rdflib.NORMALIZE_LITERALS = False
