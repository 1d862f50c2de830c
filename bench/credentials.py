"""The bench logins' password and TOTP key, published on purpose (README): bench databases only (bench.data)."""

import os

BENCH_PASSWORD = os.environ.get("BENCH_PASSWORD", "Banc-de-mesure-2026!")
BENCH_TOTP_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key, as the demo accounts
