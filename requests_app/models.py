"""Demande and its five kinds (rules D1–D9) come with the requests issue."""
