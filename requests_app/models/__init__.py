"""Demande and its five kinds (D1–D9), the health-data lexicon of the free-text guard (D4)."""
