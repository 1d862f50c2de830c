"""Bench data (SPEC « Scale to plan for »): caisses, partners, conventions, accounts, and N requests with their thread.

Small tables (caisses, partners, conventions, accounts) are planned in Python with a seeded random generator and
loaded with PostgreSQL `COPY`; the requests, their messages, state changes and attachments are generated inside
PostgreSQL by `INSERT … SELECT generate_series` (1 M requests in a few minutes on 2 cores). The data holds every
database constraint and the rules the models only check in Python (quotas A2–A4, A11's last gestionnaire, A14's
accounts without convention, A15's deleted accounts, D2's technicien of the partner, D9's ended conventions,
SIRET keys, free texts the D4 guard accepts): `bench.invariants` proves it.

It writes only to a bench database: the name must contain "bench" (or be a Django test database, "test_…"),
because it creates logins with a published password and TOTP key.
"""

import hashlib
import math
import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum import luhn
from stdnum.fr import siret as siret_checker

from accounts.models import (
    CGU,
    GESTIONNAIRE_REASONS,
    AccountIncident,
    AccountState,
    AccountToken,
    CGUAcceptance,
    GestionnaireRequest,
    GestionnaireRequestKind,
    HabilitationRequest,
    HabilitationReview,
    InactivationReason,
    IncidentKind,
    IncidentSource,
    Profile,
    TokenPurpose,
    User,
)
from accounts.permissions import AGENT_GROUP, sync_agent_group
from accounts.quotas import quotas_for_member_count
from conventions.models import (
    Caisse,
    ConventionMetier,
    ConventionStatus,
    ConventionUtilisation,
    DomaineEmail,
    Partenaire,
    Referent,
)
from core import guard
from core.text import fold
from core.working_days import add_working_days

from . import vocabulary as voc
from .credentials import BENCH_PASSWORD, BENCH_TOTP_KEY
from .sql import copy_rows, insert_history, reset_sequences
from .sql_requests import generate_requests

CGU_VERSION = "banc-2026.1"
WINDOW_DAYS = 3 * 365  # requests kept for several years (SPEC: scale to plan for)

# The runner's logins (usernames); pools are numbered 01, 02…
BIG_TECHNICIENS = 12
BIG_GESTIONNAIRES = 3
ORDINARY_TECHNICIENS = 20
ORDINARY_GESTIONNAIRES = 5
BIG_AGENTS = 8
ADMIN_USERNAME = "bench.admin"


@dataclass(frozen=True)
class Plan:
    requests: int
    partners: int
    accounts: int
    caisses: int = 100
    big_partner_requests: int | None = None  # default: 5 % of the requests (50,000 at 1 M)
    big_caisse_requests: int | None = None  # default: 19.5 % (195,000 at 1 M)
    seed: int = 2026

    @property
    def big_partner(self) -> int:
        return self.big_partner_requests if self.big_partner_requests is not None else round(self.requests * 0.05)

    @property
    def big_caisse(self) -> int:
        return self.big_caisse_requests if self.big_caisse_requests is not None else round(self.requests * 0.195)

    @property
    def known_partners(self) -> int:
        """Ordinary partners that hold one of the runner's logins (distinct partners)."""
        return min(ORDINARY_TECHNICIENS, (self.partners - 1) // 3)

    def validate(self) -> None:
        if self.partners < 10 or self.caisses < 4:
            raise ValueError("au moins 10 partenaires et 4 caisses")
        if self.accounts < 3 * self.partners:
            raise ValueError("au moins 3 comptes par partenaire (un gestionnaire, un technicien, un ancien compte)")
        if self.requests < 10 * self.partners:
            raise ValueError("au moins 10 demandes par partenaire")
        if not 0 < self.big_partner < self.big_caisse < self.requests:
            raise ValueError("il faut : 0 < demandes du grand partenaire < demandes de la grande caisse < demandes")


# Sizes the runner and the README name; the smoke test of `make test` uses "smoke".
PRESETS = {
    "smoke": Plan(requests=10_000, partners=50, accounts=1_000, caisses=10),
    "10k": Plan(requests=10_000, partners=500, accounts=10_000),
    "100k": Plan(requests=100_000, partners=5_000, accounts=100_000),
    "1m": Plan(requests=1_000_000, partners=5_000, accounts=100_000),
}


class NotABenchDatabase(Exception):
    pass


def check_database() -> str:
    """The generator creates logins with a published password: only on a bench or test database."""
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql":
        raise NotABenchDatabase("Le banc de mesure demande PostgreSQL (DATABASE_URL=postgres://…).")
    if "bench" not in name and not name.startswith("test_"):
        raise NotABenchDatabase(
            f"La base « {name} » n'est pas une base de banc de mesure : son nom doit contenir « bench » (par "
            "exemple DATABASE_URL=postgres://postgres@127.0.0.1:5432/ep_bench_100k). Refusé : le banc crée des "
            "comptes au mot de passe publié."
        )
    return name


def is_empty() -> bool:
    return not (Caisse.objects.exists() or Partenaire.objects.exists() or User.objects.exists())


def valid_siret(n: int) -> str:
    siren8 = f"{n:08d}"
    siren = siren8 + luhn.calc_check_digit(siren8)
    for last in "0123456789":
        candidate = f"{siren}0001{last}"
        if siret_checker.is_valid(candidate):
            return candidate
    raise AssertionError("unreachable")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in fold(text)).strip("-")


@dataclass
class PartnerPlan:
    id: int
    member_count: int
    kind: str
    home: int  # caisse id
    requests: int = 0
    in_force: list = field(default_factory=list)  # caisse ids
    ended: list = field(default_factory=list)  # (caisse id, days since the end)
    gestionnaires: list = field(default_factory=list)  # occupying account ids
    techniciens: list = field(default_factory=list)  # every technicien id (any state): they filed the requests

    @property
    def receives(self) -> bool:
        return self.kind in Partenaire.KINDS_RECEIVING_DOCUMENTS


class Generator:
    def __init__(self, plan: Plan, *, log=print):
        plan.validate()
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.log = log
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.timings: dict[str, float] = {}
        self.known_hash = PBKDF2PasswordHasher().encode(BENCH_PASSWORD, secrets.token_hex(8))
        self._next_user_id = 1
        self.users: list[dict] = []
        self.agents_by_caisse: dict[int, list[int]] = {}

    # --- helpers ---------------------------------------------------------------------------------------

    def _step(self, name, function):
        started = time.perf_counter()
        result = function()
        self.timings[name] = time.perf_counter() - started
        self.log(f"  {name} : {self.timings[name]:.1f} s")
        return result

    def _days_ago(self, days: float):
        return self.now - timedelta(days=days)

    def _user(self, **row) -> int:
        user_id = self._next_user_id
        self._next_user_id += 1
        first, civilite = self.rng.choice(voc.FIRST_NAMES)
        last = self.rng.choice(voc.LAST_NAMES)
        defaults = {
            "id": user_id,
            "password": "!" + secrets.token_urlsafe(20),  # unusable: only the runner's logins sign in
            "is_superuser": False,
            "username": f"{_slug(first)}.{_slug(last)}.{user_id}",
            "civilite": civilite,
            "first_name": first,
            "last_name": last,
            "job_title": self.rng.choice(voc.JOB_TITLES),
            "phone": f"03 20 {user_id // 10000 % 100:02d} {user_id // 100 % 100:02d} {user_id % 100:02d}",
            "state": AccountState.ACTIF,
            "date_joined": self._days_ago(self.rng.uniform(WINDOW_DAYS, WINDOW_DAYS + 400)),
            "last_login": self._days_ago(self.rng.uniform(0, 30)),
            "password_changed_at": self._days_ago(self.rng.uniform(1, 300)),
        }
        defaults.update(row)
        defaults.setdefault("state_changed_at", defaults["date_joined"])
        if defaults.get("known"):
            defaults.update(password=self.known_hash, password_changed_at=self.now, last_login=None)
        self.users.append(defaults)
        return user_id

    # --- the plan ---------------------------------------------------------------------------------------

    def plan_partners(self) -> list[PartnerPlan]:
        plan, rng = self.plan, self.rng
        caisses = list(range(1, plan.caisses + 1))
        others = caisses[1:]  # caisse 1 is the big one
        kinds = [k for k, _, _ in voc.PARTNER_KINDS]
        weights = [w for _, _, w in voc.PARTNER_KINDS]
        partners = []
        for pid in range(1, plan.partners + 1):
            band = rng.random()
            member_count = (
                rng.randint(1, 10) if band < 0.3 else rng.randint(11, 25) if band < 0.6 else rng.randint(26, 300)
            )
            kind = rng.choices(kinds, weights)[0]
            if pid == 1:
                kind, member_count = "ccas", 400
            elif pid <= plan.known_partners + 1:
                kind, member_count = "association", rng.randint(26, 120)
            partners.append(PartnerPlan(pid, member_count, kind, home=0))
        # Requests per partner: one big partner, the others skewed (a few large structures, many small ones).
        big = partners[0]
        big.requests = plan.big_partner
        weights = [rng.lognormvariate(0, 1.0) for _ in partners[1:]]
        median = sorted(weights)[len(weights) // 2]
        for index in range(plan.known_partners):  # the runner's ordinary partners have a usual history
            weights[index] = max(weights[index], median)
        cap = plan.big_partner // 2  # the big partner stays the biggest, by far
        for _ in range(20):
            counts = _apportion(plan.requests - plan.big_partner, weights)
            if max(counts) <= cap:
                break
            weights = [min(w, w * cap / n) if n > cap else w for w, n in zip(weights, counts, strict=True)]
        for p, n in zip(partners[1:], counts, strict=True):
            p.requests = n
        # Conventions: every partner one with its home caisse; some a second one, some an ended one.
        big.home, big.in_force, big.ended = 1, [1, others[0]], [(others[1], 400)]
        big_total = round(plan.big_partner * 0.85)
        load = dict.fromkeys(others, 0)
        order = partners[1 + plan.known_partners :]
        rng.shuffle(order)
        for index, p in enumerate(partners[1 : 1 + plan.known_partners]):
            p.home = others[index % len(others)]
            p.in_force = [p.home]
            load[p.home] += p.requests
        for p in order:
            without_convention = rng.random() < 0.01
            second, ended = rng.random() < 0.15, rng.random() < 0.05
            # The home caisse's share of the partner's requests (see allocations()).
            share = (
                p.requests if without_convention else round(p.requests * 0.85 / (0.85 + 0.1 * second + 0.05 * ended))
            )
            if big_total + share <= plan.big_caisse:
                p.home, big_total = 1, big_total + share
            else:  # the other caisses evenly loaded: the big one stays the biggest
                p.home = min(others, key=lambda c: (load[c], rng.random()))
                load[p.home] += share
            rest = [c for c in others if c != p.home]
            if without_convention:  # A14 already applied: the convention ended, the accounts were inactivated
                p.ended = [(p.home, rng.randint(30, 400))]
                continue
            p.in_force = [p.home]
            if second:
                p.in_force.append(rng.choice(rest))
            if ended:
                p.ended.append((rng.choice([c for c in rest if c not in p.in_force]), rng.randint(30, 700)))
        return partners

    def plan_accounts(self, partners: list[PartnerPlan]) -> None:
        plan, rng = self.plan, self.rng
        # Agents first: the big caisse has more of them; every caisse at least 3.
        for caisse_id in range(1, plan.caisses + 1):
            count = max(BIG_AGENTS, 40) if caisse_id == 1 else rng.randint(3, 8)
            ids = []
            for n in range(count):
                known = caisse_id == 1 and n < BIG_AGENTS
                username = f"bench.agent.grande.{n + 1:02d}" if known else None
                ids.append(self._agent(caisse_id, username))
            self.agents_by_caisse[caisse_id] = ids
        for index, p in enumerate(partners[1 : 1 + plan.known_partners]):  # the ordinary partners' agents
            self.agents_by_caisse[p.home].insert(0, self._agent(p.home, f"bench.agent.{index + 1:02d}"))
        self._user(
            username=ADMIN_USERNAME,
            profile=Profile.ADMINISTRATEUR,
            is_superuser=True,
            known=True,
            email="administration@assurance-maladie.example",
        )
        # Occupying accounts within quotas (A2–A4), then former (inactivated or deleted) accounts.
        occupying = {}
        for p in partners:
            quotas = quotas_for_member_count(p.member_count)
            if not p.in_force:
                occupying[p.id] = (0, 0)
            elif p.id == 1:
                occupying[p.id] = (quotas.gestionnaires, quotas.techniciens)
            else:
                occupying[p.id] = (
                    max(1, round(quotas.gestionnaires * rng.uniform(0.4, 1.0))),
                    max(1, round(quotas.techniciens * rng.uniform(0.4, 1.0))),
                )
        total = sum(g + t for g, t in occupying.values())
        if total > 0.85 * plan.accounts:  # fewer accounts asked than the quotas allow: scale down
            factor = 0.85 * plan.accounts / total
            occupying = {
                pid: (g, t) if pid <= 1 + plan.known_partners else (max(1, int(g * factor)), max(1, int(t * factor)))
                for pid, (g, t) in occupying.items()
                if g
            } | {pid: (0, 0) for pid, (g, _) in occupying.items() if not g}
        for index, p in enumerate(partners):
            gestionnaires, techniciens = occupying[p.id]
            self._partner_accounts(p, index, gestionnaires, techniciens)
        former = plan.accounts - sum(1 for u in self.users if u.get("partenaire_id"))
        if former < 0:
            raise ValueError("trop peu de comptes pour ces partenaires")
        # Former accounts, more where there are more requests (turnover); at least one technicien everywhere.
        counts = _apportion(former, [p.requests + 1 for p in partners])
        for index, p in enumerate(partners):
            if not p.techniciens and not counts[index]:  # taken from the largest share: the total stays exact
                counts[index] += 1
                counts[counts.index(max(counts))] -= 1
        for p, count in zip(partners, counts, strict=True):
            for n in range(count):
                profile = Profile.TECHNICIEN if n == 0 or rng.random() < 0.85 else Profile.GESTIONNAIRE
                self._former_account(p, profile)

    def _agent(self, caisse_id, username=None) -> int:
        user_id = self._next_user_id
        return self._user(
            profile=Profile.AGENT,
            caisse_id=caisse_id,
            email=f"agent{user_id}@cpam-{100 + caisse_id}.example",
            password_changed_at=self._days_ago(self.rng.uniform(1, 120)),
            known=bool(username),
            **({"username": username} if username else {}),
        )

    def _partner_accounts(self, p: PartnerPlan, index: int, gestionnaires: int, techniciens: int) -> None:
        rng, plan = self.rng, self.plan
        domain = f"structure{p.id:05d}.example"
        for n in range(gestionnaires):
            username = None
            if p.id == 1 and n < BIG_GESTIONNAIRES:
                username = f"bench.grand.gestionnaire.{n + 1:02d}"
            elif 1 <= index <= min(ORDINARY_GESTIONNAIRES, plan.known_partners) and n == 0:
                username = f"bench.gestionnaire.{index:02d}"
            user_id = self._user(
                profile=Profile.GESTIONNAIRE,
                partenaire_id=p.id,
                known=bool(username),
                **({"username": username} if username else {}),
            )
            self.users[-1]["email"] = f"u{user_id}@{domain}"
            p.gestionnaires.append(user_id)
        for n in range(techniciens):
            username = None
            if p.id == 1 and n < BIG_TECHNICIENS:
                username = f"bench.grand.technicien.{n + 1:02d}"
            elif 1 <= index <= plan.known_partners and n == 0:
                username = f"bench.technicien.{index:02d}"
            invited = not username and rng.random() < 0.03
            manager = rng.choice(p.gestionnaires)
            row = {
                "profile": Profile.TECHNICIEN,
                "partenaire_id": p.id,
                "created_by_id": manager,
                "attached_to_id": manager,
                "known": bool(username),
            }
            if username:
                row["username"] = username
            if invited:  # A7: invited two days ago at most, its activation link still valid
                joined = self._days_ago(rng.uniform(0, 2))
                row.update(
                    state=AccountState.INVITE,
                    date_joined=joined,
                    last_login=None,
                    password_changed_at=None,
                    invited=True,
                )
            user_id = self._user(**row)
            self.users[-1]["email"] = f"u{user_id}@{domain}"
            p.techniciens.append(user_id)

    def _former_account(self, p: PartnerPlan, profile: str) -> None:
        rng = self.rng
        if p.ended and not p.in_force:  # A14: inactivated the day after the end of the convention
            days_ago = p.ended[0][1] - 1
            reason = InactivationReason.CONVENTION_ENDED
        elif rng.random() < 0.25:
            days_ago, reason = rng.uniform(1, 175), rng.choice(GESTIONNAIRE_REASONS)
        else:
            days_ago, reason = rng.uniform(185, 1000), rng.choice(GESTIONNAIRE_REASONS)
        inactivated_at = self._days_ago(days_ago)
        row = {
            "profile": profile,
            "partenaire_id": p.id,
            "state": AccountState.INACTIVE,
            "inactivated_at": inactivated_at,
            "inactivation_reason": reason,
            "state_changed_at": inactivated_at,
            "last_login": inactivated_at - timedelta(days=rng.uniform(1, 60)),
            "password_changed_at": inactivated_at - timedelta(days=rng.uniform(1, 300)),
            "email": f"u{self._next_user_id}@structure{p.id:05d}.example",
        }
        if profile == Profile.TECHNICIEN and p.gestionnaires:
            row["created_by_id"] = row["attached_to_id"] = rng.choice(p.gestionnaires)
        if days_ago >= 183:  # A15: deleted 6 months after the inactivation, personal data erased
            user_id = self._next_user_id
            row.update(
                state=AccountState.SUPPRIME,
                state_changed_at=inactivated_at + timedelta(days=183),
                username=f"compte-supprime-{user_id}",
                civilite="",
                first_name="",
                last_name="",
                job_title="",
                phone="",
                email="",
                deleted=True,
            )
        user_id = self._user(**row)
        if profile == Profile.TECHNICIEN:
            p.techniciens.append(user_id)

    # --- loading ----------------------------------------------------------------------------------------

    def run(self) -> dict:
        started = time.perf_counter()
        self.log(f"Données du banc : {self.plan}")
        for text in voc.FIRST_MESSAGES + voc.ANSWERS + voc.INTERNAL_NOTES + voc.RDV_REASONS:
            guard.check_fields(text=text)  # D4: the texts of the bench pass the free-text guard
        partners = self._step("plan (Python)", self._plan)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO off")
            self._step("caisses, partenaires, conventions", lambda: self.load_parties(partners))
            self._step("comptes", self.load_accounts)
            allocations = self.allocations(partners)
            counts = self._step("demandes, messages, états", lambda: generate_requests(allocations, self.plan.seed))
            self._step("files, signalements, historique", lambda: self.load_misc(partners))
            reset_sequences()
        self._step("ANALYZE", lambda: _analyze())
        self.timings["total"] = time.perf_counter() - started
        self.log(f"Terminé en {self.timings['total']:.1f} s : {counts}")
        return {"counts": counts, "timings": self.timings}

    def _plan(self):
        partners = self.plan_partners()
        self.plan_accounts(partners)
        self.partners = partners
        return partners

    def allocations(self, partners: list[PartnerPlan]) -> list[tuple]:
        """Requests per (partner, caisse): 85 % to the home caisse, the rest to a second one and to an ended one
        (older than its end, D9)."""
        rows = []
        for p in partners:
            targets = [(c, 0.85 if c == p.home else 0.10, 0) for c in p.in_force]
            targets += [(c, 0.05, days + 1) for c, days in p.ended]
            counts = _apportion(p.requests, [weight for _, weight, _ in targets])
            for (caisse_id, _, min_age), n in zip(targets, counts, strict=True):
                if n:
                    agents = self.agents_by_caisse[caisse_id]
                    rows.append((p.id, caisse_id, n, p.techniciens, agents, min_age, WINDOW_DAYS, p.receives))
        return rows

    def load_parties(self, partners: list[PartnerPlan]) -> None:
        plan, rng = self.plan, self.rng
        caisses = []
        for cid in range(1, plan.caisses + 1):
            city, postal_code = voc.CITIES[cid % len(voc.CITIES)]
            name = "CPAM du banc n° 001 (grande caisse)" if cid == 1 else f"CPAM du banc n° {cid:03d}"
            caisses.append(
                {"id": cid, "name": name, "code": str(100 + cid), "address_line": f"{cid} rue de la Caisse",
                 "postal_code": postal_code, "city": city}
            )  # fmt: skip
        copy_rows(Caisse, caisses)
        referents = [
            {"caisse_id": c["id"], "position": position, "full_name": f"{first} {last}", "role": role,
             "phone": "03 20 00 00 0" + str(position), "email": f"referent{position}@cpam-{c['code']}.example"}
            for c in caisses
            for position, (first, last, role) in enumerate(
                (("Camille", "Demoulin", "Responsable Relations Partenaires"),
                 ("Karim", "Benali", "Chargé de mission Accès aux droits")), start=1)
        ]  # fmt: skip
        copy_rows(Referent, referents)
        labels = {k: label for k, label, _ in voc.PARTNER_KINDS}
        rows, domains, metiers, utilisations = [], [], [], []
        for p in partners:
            city, postal_code = voc.CITIES[p.id % len(voc.CITIES)]
            name = f"{labels[p.kind]} de {city} n° {p.id:05d}"
            if p.id == 1:
                name = f"CCAS de {city} (grand partenaire du banc)"
            suspended = p.id > 1 + plan.known_partners and rng.random() < 0.002
            rows.append({
                "id": p.id, "name": name, "kind": p.kind, "siret": valid_siret(20_000_000 + p.id),
                "address_line": f"{p.id} place de la Mairie", "postal_code": postal_code, "city": city,
                "legal_representative": "Claude Martin", "legal_representative_title": "Président",
                "member_count": p.member_count, "can_receive_documents": p.receives,
                "notification_email": f"contact@structure{p.id:05d}.example",
                "suspended_at": self._days_ago(rng.uniform(1, 90)) if suspended else None,
                "suspension_reason": "Utilisation non conforme constatée par la caisse" if suspended else "",
            })  # fmt: skip
            domains.append({"partenaire_id": p.id, "domain": f"structure{p.id:05d}.example"})
            conventions = [(c, None) for c in p.in_force] + list(p.ended)
            for caisse_id, ended_days in conventions:
                start = self.today - timedelta(days=rng.randint(WINDOW_DAYS + 5, WINDOW_DAYS + 1500))
                if ended_days is None:
                    end = None if rng.random() < 0.7 else self.today + timedelta(days=rng.randint(30, 1500))
                    status, ended_on = ConventionStatus.EN_VIGUEUR, None
                else:
                    end = ended_on = self.today - timedelta(days=ended_days)
                    status = ConventionStatus.TERMINEE
                metier_id = len(metiers) + 1
                metiers.append({
                    "id": metier_id, "caisse_id": caisse_id, "partenaire_id": p.id,
                    "reference": f"ADS-{100 + caisse_id}-{p.id:05d}", "start_date": start, "end_date": end,
                    "status": status, "ended_on": ended_on,
                })  # fmt: skip
                utilisations.append({
                    "convention_metier_id": metier_id, "signed_on": start + timedelta(days=rng.randint(0, 60)),
                    "partner_signatory": "Claude Martin, Président", "caisse_signatory": "Dominique Leroy, Directrice",
                    "deliberation_reference": f"Délibération n° {p.id}", "status": status, "ended_on": ended_on,
                })  # fmt: skip
        copy_rows(Partenaire, rows)
        copy_rows(DomaineEmail, domains)
        copy_rows(ConventionMetier, metiers)
        copy_rows(ConventionUtilisation, utilisations)

    def load_accounts(self) -> None:
        columns = {f.attname for f in User._meta.concrete_fields}
        copy_rows(User, [{k: v for k, v in u.items() if k in columns} for u in self.users])
        known = [u["id"] for u in self.users if u.get("known")]
        TOTPDevice.objects.bulk_create(
            TOTPDevice(user_id=user_id, name="Banc de mesure", key=BENCH_TOTP_KEY, confirmed=True) for user_id in known
        )
        group = Group.objects.filter(name=AGENT_GROUP).first() or sync_agent_group()
        through = User.groups.through
        through.objects.bulk_create(
            through(user_id=u["id"], group_id=group.pk) for u in self.users if u["profile"] == Profile.AGENT
        )
        cgu = CGU.objects.create(
            version=CGU_VERSION,
            body="Conditions générales d'utilisation du banc de mesure.",
            published_at=self._days_ago(400),
        )
        copy_rows(
            CGUAcceptance,
            [
                {"user_id": u["id"], "cgu_id": cgu.pk, "accepted_at": u["date_joined"]}
                for u in self.users
                if u.get("partenaire_id") and u["state"] == AccountState.ACTIF
            ],
        )
        copy_rows(
            AccountToken,
            [
                {
                    "user_id": u["id"],
                    "purpose": TokenPurpose.ACTIVATION,
                    "token_hash": hashlib.sha256(f"bench-{u['id']}".encode()).hexdigest(),
                    "created_at": u["date_joined"],
                    "expires_at": u["date_joined"] + timedelta(hours=72),
                }
                for u in self.users
                if u.get("invited")
            ],
        )

    def load_misc(self, partners: list[PartnerPlan]) -> None:
        """The back-office queues (A5, A10, A13, A16), the model history of the parties and accounts."""
        rng = self.rng
        gestionnaire_of = {p.id: p.gestionnaires for p in partners if p.gestionnaires}
        agent = self.agents_by_caisse[1][0]
        habilitations, changes, incidents, reviews = [], [], [], []
        for pid, gestionnaires in gestionnaire_of.items():
            draw = rng.random()
            if draw < 0.01:
                received = self.today - timedelta(days=rng.randint(0, 10))
                due = add_working_days(received, 5)
                habilitations.append(
                    HabilitationRequest(
                        partenaire_id=pid, civilite="mme", last_name="Nouvelle", first_name="Gestionnaire",
                        job_title="Responsable", phone="03 20 00 00 00", email=f"nouvelle@structure{pid:05d}.example",
                        received_on=received, due_on=due, requested_by_id=gestionnaires[0],
                        reminded_on=self.today,  # the reminder job already ran today
                    )
                )  # fmt: skip
            elif draw < 0.015:
                changes.append(
                    GestionnaireRequest(
                        partenaire_id=pid, kind=GestionnaireRequestKind.MODIFICATION, target_id=gestionnaires[0],
                        requested_by_id=gestionnaires[-1], new_phone="03 20 99 99 99",
                    )
                )  # fmt: skip
            elif draw < 0.017:
                incidents.append(
                    AccountIncident(
                        partenaire_id=pid, account_id=gestionnaires[0], kind=IncidentKind.LOSS,
                        source=IncidentSource.PARTNER, description="Identifiants perdus lors d'un déménagement.",
                        reported_by_id=gestionnaires[-1],
                    )
                )  # fmt: skip
            elif draw < 0.037:
                reviews.append(
                    HabilitationReview(
                        partenaire_id=pid, requested_by_id=agent, reminded_on=self.today,
                        due_on=self.today + timedelta(days=rng.randint(-30, 30)),
                    )
                )  # fmt: skip
        HabilitationRequest.objects.bulk_create(habilitations)
        GestionnaireRequest.objects.bulk_create(changes)
        AccountIncident.objects.bulk_create(incidents)
        HabilitationReview.objects.bulk_create(reviews)
        for model in (Caisse, Partenaire, ConventionMetier, ConventionUtilisation, CGU):
            insert_history(model, "+")
        insert_history(User, "+", where=f"state <> '{AccountState.SUPPRIME}'")


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _apportion(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights`, as integers that add up exactly (largest remainders)."""
    weight_sum = sum(weights)
    shares = [total * w / weight_sum for w in weights]
    counts = [math.floor(s) for s in shares]
    missing = total - sum(counts)
    for index in sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])[:missing]:
        counts[index] += 1
    return counts


def generate(plan: Plan, *, log=print) -> dict:
    check_database()
    if not is_empty():
        raise NotABenchDatabase(
            "La base contient déjà des caisses, des partenaires ou des comptes : le banc part d'une base vide. "
            "Relancez avec --reset (efface les données du banc) ou recréez la base."
        )
    return Generator(plan, log=log).run()


def reset() -> None:
    """Empty the tables the generator fills (a bench database only): the health lexicon and the permissions stay."""
    check_database()
    kept = {"requests_app_healthterm", "requests_app_historicalhealthterm"}
    tables = [
        model._meta.db_table
        for app in ("accounts", "conventions", "requests_app", "portal", "otp_totp", "otp_static", "sessions", "axes")
        for model in apps.get_app_config(app).get_models(include_auto_created=True)
        if model._meta.db_table not in kept
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(sorted(set(tables)))} RESTART IDENTITY CASCADE")
