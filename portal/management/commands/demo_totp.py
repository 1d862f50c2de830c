"""Print the current two-factor code of the demo accounts (development only)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP

from .load_demo_data import DEMO_TOTP_KEY


class Command(BaseCommand):
    help = "Affiche le code de double authentification actuel des comptes de démonstration."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Réservé au développement (DEBUG activé).")
        code = TOTP(bytes.fromhex(DEMO_TOTP_KEY)).token()
        self.stdout.write(f"Code actuel : {code:06d} (encore {30 - int(time.time()) % 30} s)")
