#!/usr/bin/env bash
# Starts (or checks) the services the test suite needs: PostgreSQL, Redis, clamd, Debian's Chromium.
#
#   scripts/services.sh up           make sure every service is up (idempotent, fast when all run)
#   scripts/services.sh status       print the state of each service, start nothing
#   scripts/services.sh down-clamd   stop the clamd this script started
#
# Environment (defaults in brackets):
#   DATABASE_URL [postgres://postgres@127.0.0.1:5432/espace_partenaires]
#   REDIS_URL    [redis://127.0.0.1:6379/0]
#   CLAMD_HOST   [127.0.0.1]   CLAMD_PORT [3310]
#
# A service that cannot be had (not root, no apt-get) is reported on one line and the script still
# exits 0: the tests that need it are skipped, and the suite itself fails on skips when CI=true.
# Our clamd is private to the repository (.services/clamd/), runs offline with a single test
# signature (EICAR) and never uses freshclam: no signature download is possible on these machines.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICES_DIR="$ROOT_DIR/.services"
CLAMD_DIR="$SERVICES_DIR/clamd"

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/espace_partenaires}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
CLAMD_HOST="${CLAMD_HOST:-127.0.0.1}"
CLAMD_PORT="${CLAMD_PORT:-3310}"
CHROMIUM_BIN="/usr/bin/chromium"

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
APT_UPDATED=0

say() { printf '%-10s %s\n' "$1" "$2"; }
have() { command -v "$1" >/dev/null 2>&1; }
clamd_bin() {  # clamd lives in /usr/sbin, which a non-root PATH often lacks
    command -v clamd 2>/dev/null || { [ -x /usr/sbin/clamd ] && echo /usr/sbin/clamd; }
}

# --- URL parsing (bash only: no interpreter start-up on the fast path) -------------------------------
# scheme://[user[:password]@]host[:port][/path]
parse_url() {  # $1=url $2=default port -> URL_USER URL_PASSWORD URL_HOST URL_PORT URL_PATH
    local rest="${1#*://}" auth="" hostport
    URL_USER="" URL_PASSWORD="" URL_PATH=""
    if [[ "$rest" == */* ]]; then URL_PATH="${rest#*/}"; rest="${rest%%/*}"; fi
    URL_PATH="${URL_PATH%%\?*}"
    if [[ "$rest" == *@* ]]; then auth="${rest%@*}"; hostport="${rest##*@}"; else hostport="$rest"; fi
    if [ -n "$auth" ]; then
        URL_USER="${auth%%:*}"
        [[ "$auth" == *:* ]] && URL_PASSWORD="${auth#*:}"
    fi
    if [[ "$hostport" == \[*\]* ]]; then            # [::1]:5432
        URL_HOST="${hostport%%]*}"; URL_HOST="${URL_HOST#[}"
        URL_PORT="${hostport##*]}"; URL_PORT="${URL_PORT#:}"
    else
        URL_HOST="${hostport%%:*}"
        URL_PORT=""; [[ "$hostport" == *:* ]] && URL_PORT="${hostport##*:}"
    fi
    URL_HOST="${URL_HOST:-127.0.0.1}"
    URL_PORT="${URL_PORT:-$2}"
}

wait_for() {  # $1=seconds, rest=command that succeeds when ready
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.5
    done
}

apt_install() {  # apt_install PKG... (runs apt-get update once per script run)
    if [ "$IS_ROOT" -ne 1 ] || ! have apt-get; then return 1; fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        mkdir -p "$SERVICES_DIR"
        apt-get update -q >>"$SERVICES_DIR/apt.log" 2>&1 || return 1
        APT_UPDATED=1
    fi
    # Never let a package's maintainer scripts start its own daemons (freshclam would try to reach
    # the signature mirrors). Debian's own mechanism: a policy-rc.d that answers 101.
    local policy=/usr/sbin/policy-rc.d made_policy=0 rc=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
    fi
    mkdir -p "$SERVICES_DIR"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$SERVICES_DIR/apt.log" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || echo "apt-get install $* a échoué (voir $SERVICES_DIR/apt.log)" >&2
    [ "$made_policy" -eq 1 ] && rm -f "$policy"
    return "$rc"
}

# --- PostgreSQL --------------------------------------------------------------------------------------
pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1; }

postgres_up() {
    parse_url "$DATABASE_URL" 5432
    PG_HOST="$URL_HOST" PG_PORT="$URL_PORT"
    local user="${URL_USER:-postgres}" db="${URL_PATH:-espace_partenaires}" started=""
    # The client tools: psql and pg_isready here, pg_dump for the whole-database purge test (A15).
    if ! have pg_isready || ! have psql || ! have pg_dump; then
        apt_install postgresql-client || true
    fi
    if ! have pg_isready || ! have psql; then
        say postgres "INDISPONIBLE : client PostgreSQL absent (pg_isready/psql) -> toute la suite de tests sera ignorée"
        return 0
    fi
    if ! pg_up; then
        if [ "$IS_ROOT" -eq 1 ] && have pg_ctlcluster && [ -d /etc/postgresql ]; then
            local version
            # shellcheck disable=SC2012  # version directories: plain names
            version="$(ls /etc/postgresql | sort -V | tail -n 1)"
            pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
            started=" (démarré : cluster $version/main)"
        fi
        if ! wait_for 30 pg_up; then
            say postgres "INDISPONIBLE sur $PG_HOST:$PG_PORT -> toute la suite de tests (base de données) sera ignorée"
            return 0
        fi
    fi
    export PGPASSWORD="$URL_PASSWORD"
    local exists
    exists="$(psql -X -q -h "$PG_HOST" -p "$PG_PORT" -U "$user" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '${db//\'/\'\'}'" 2>/dev/null || true)"
    if [ "$exists" != "1" ]; then
        if createdb -h "$PG_HOST" -p "$PG_PORT" -U "$user" "$db" 2>/dev/null; then
            started="$started (base $db créée)"
        else
            say postgres "OK sur $PG_HOST:$PG_PORT$started, mais la base $db n'a pas pu être créée (utilisateur $user)"
            return 0
        fi
    fi
    say postgres "OK  $PG_HOST:$PG_PORT/$db$started"
}

# --- Redis -------------------------------------------------------------------------------------------
redis_ping() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

redis_up() {
    parse_url "$REDIS_URL" 6379
    REDIS_HOST="$URL_HOST" REDIS_PORT="$URL_PORT"
    local started=""
    if ! have redis-cli; then
        if [ "$IS_ROOT" -eq 1 ] && apt_install redis-server; then :; else
            say redis "INDISPONIBLE : redis-cli absent -> tests marqués 'redis' ignorés"
            return 0
        fi
    fi
    if ! redis_ping; then
        if have redis-server; then
            redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" >/dev/null
            started=" (démarré)"
        fi
        if ! wait_for 15 redis_ping; then
            say redis "INDISPONIBLE sur $REDIS_HOST:$REDIS_PORT -> tests marqués 'redis' ignorés"
            return 0
        fi
    fi
    say redis "OK  $REDIS_HOST:$REDIS_PORT$started"
}

# --- clamd -------------------------------------------------------------------------------------------
clamd_ping() {  # PING over TCP with bash's /dev/tcp; clamd answers PONG
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 3 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf "nPING\n" >&3
        IFS= read -r -t 2 reply <&3 || exit 1
        [ "$reply" = "PONG" ]' _ "$CLAMD_HOST" "$CLAMD_PORT" 2>/dev/null
}

clamd_pid() {  # prints the pid of our clamd if it runs
    local pid
    [ -f "$CLAMD_DIR/clamd.pid" ] || return 1
    pid="$(cat "$CLAMD_DIR/clamd.pid" 2>/dev/null)" || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

clamd_write_config() {
    mkdir -p "$CLAMD_DIR/db" "$CLAMD_DIR/tmp"
    # The directory ignores itself, whatever the repository's .gitignore says.
    [ -f "$SERVICES_DIR/.gitignore" ] || printf '*\n' >"$SERVICES_DIR/.gitignore"
    # The EICAR test string, built at run time from two base64 pieces so that no file of the
    # repository contains it (and no antivirus flags the repository).
    local hex
    hex="$(printf '%s%s' 'WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9' \
        'JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNULUZJTEUhJEgrSCo=' | base64 -d | od -An -v -tx1 | tr -d ' \n')"
    # A single database file: only our test signature, no official one (nothing can be downloaded).
    find "$CLAMD_DIR/db" -mindepth 1 -maxdepth 1 ! -name test.ndb -exec rm -rf {} +
    printf 'Eicar-Test-Signature:0:*:%s\n' "$hex" >"$CLAMD_DIR/db/test.ndb"
    # No "User" line: clamd then keeps the identity it was started with (root here) instead of
    # switching to a "clamav" user that may not exist.
    cat >"$CLAMD_DIR/clamd.conf" <<EOF
# Generated by scripts/services.sh: private, offline clamd for the test suite.
Foreground no
TCPSocket $CLAMD_PORT
TCPAddr $CLAMD_HOST
DatabaseDirectory $CLAMD_DIR/db
TemporaryDirectory $CLAMD_DIR/tmp
PidFile $CLAMD_DIR/clamd.pid
LogFile $CLAMD_DIR/clamd.log
LogTime yes
LogFileMaxSize 5M
StreamMaxLength 25M
MaxFileSize 25M
MaxScanSize 100M
MaxThreads 4
SelfCheck 0
Bytecode no
EOF
}

clamd_up() {
    local started=""
    if clamd_ping; then
        say clamd "OK  $CLAMD_HOST:$CLAMD_PORT"
        return 0
    fi
    if ! clamd_bin >/dev/null; then
        if apt_install --no-install-recommends clamav-daemon && clamd_bin >/dev/null; then
            started=" (clamav-daemon installé)"
        else
            say clamd "INDISPONIBLE : clamd absent et installation impossible (root + apt-get requis) -> tests marqués 'clamd' ignorés"
            return 0
        fi
    fi
    if ! clamd_pid >/dev/null; then
        clamd_write_config
        rm -f "$CLAMD_DIR/clamd.pid"
        if ! "$(clamd_bin)" --config-file="$CLAMD_DIR/clamd.conf" >>"$CLAMD_DIR/clamd.out" 2>&1; then
            say clamd "INDISPONIBLE : clamd n'a pas démarré (voir $CLAMD_DIR/clamd.log) -> tests marqués 'clamd' ignorés"
            return 0
        fi
        started="$started (démarré)"
    fi
    if ! wait_for 60 clamd_ping; then
        say clamd "INDISPONIBLE : pas de PONG sur $CLAMD_HOST:$CLAMD_PORT après 60 s -> tests marqués 'clamd' ignorés"
        return 0
    fi
    say clamd "OK  $CLAMD_HOST:$CLAMD_PORT$started"
}

clamd_down() {
    local pid
    if pid="$(clamd_pid)"; then
        kill "$pid"
        # shellcheck disable=SC2016  # expanded by the inner bash
        wait_for 15 bash -c '! kill -0 "$1" 2>/dev/null' _ "$pid" || kill -9 "$pid" 2>/dev/null || true
        rm -f "$CLAMD_DIR/clamd.pid"
        say clamd "arrêté (pid $pid)"
    else
        say clamd "ne tournait pas (pas de pid dans $CLAMD_DIR)"
    fi
}

# --- Chromium ----------------------------------------------------------------------------------------
chromium_up() {
    if [ -x "$CHROMIUM_BIN" ]; then
        say chromium "OK  $CHROMIUM_BIN"
        return 0
    fi
    # Debian's build only: never "playwright install" (no browser download is possible here).
    if apt_install chromium && [ -x "$CHROMIUM_BIN" ]; then
        say chromium "OK  $CHROMIUM_BIN (installé)"
    else
        say chromium "INDISPONIBLE : $CHROMIUM_BIN absent et installation impossible -> tests marqués 'e2e' ignorés"
    fi
}

status() {
    parse_url "$DATABASE_URL" 5432; PG_HOST="$URL_HOST" PG_PORT="$URL_PORT"
    if have pg_isready && pg_up; then say postgres "OK  $PG_HOST:$PG_PORT"; else say postgres "ARRÊTÉ $PG_HOST:$PG_PORT"; fi
    parse_url "$REDIS_URL" 6379; REDIS_HOST="$URL_HOST" REDIS_PORT="$URL_PORT"
    if have redis-cli && redis_ping; then say redis "OK  $REDIS_HOST:$REDIS_PORT"; else say redis "ARRÊTÉ $REDIS_HOST:$REDIS_PORT"; fi
    if clamd_ping; then say clamd "OK  $CLAMD_HOST:$CLAMD_PORT"; else say clamd "ARRÊTÉ $CLAMD_HOST:$CLAMD_PORT"; fi
    if [ -x "$CHROMIUM_BIN" ]; then say chromium "OK  $CHROMIUM_BIN"; else say chromium "ABSENT $CHROMIUM_BIN"; fi
}

case "${1:-}" in
    up) postgres_up; redis_up; clamd_up; chromium_up ;;
    status) status ;;
    down-clamd) clamd_down ;;
    *) echo "usage: $0 up|status|down-clamd" >&2; exit 2 ;;
esac
