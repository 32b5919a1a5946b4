#!/usr/bin/env bash
# The official postgres image's start, for Debian's PostgreSQL 15: initialise an empty
# PGDATA from the POSTGRES_* variables and /docker-entrypoint-initdb.d/, then exec the
# server (or any other command) as user postgres.
set -Eeuo pipefail

if [[ "${1:0:1}" == "-" ]]; then
    set -- postgres "$@"
fi

if [[ "$1" == "postgres" && "$(id -u)" == "0" ]]; then
    mkdir -p "${PGDATA}" /var/run/postgresql
    chown -R postgres:postgres "${PGDATA}" /var/run/postgresql
    chmod 700 "${PGDATA}"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [[ "$1" == "postgres" && ! -s "${PGDATA}/PG_VERSION" ]]; then
    if [[ -z "${POSTGRES_PASSWORD:-}" && "${POSTGRES_HOST_AUTH_METHOD:-}" != "trust" ]]; then
        echo "error: the database is uninitialised and POSTGRES_PASSWORD is not set" \
            "(or set POSTGRES_HOST_AUTH_METHOD=trust)" >&2
        exit 1
    fi
    export POSTGRES_USER="${POSTGRES_USER:-postgres}"
    export POSTGRES_DB="${POSTGRES_DB:-${POSTGRES_USER}}"
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of arguments
    initdb --username="${POSTGRES_USER}" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
        ${POSTGRES_INITDB_ARGS:-} -D "${PGDATA}"
    printf '\nhost all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" \
        >> "${PGDATA}/pg_hba.conf"
    printf "\nlisten_addresses = '*'\n" >> "${PGDATA}/postgresql.conf"

    # During initialisation the server listens on its socket only.
    pg_ctl -D "${PGDATA}" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
    export PGUSER="${POSTGRES_USER}" PGPASSWORD="${POSTGRES_PASSWORD:-}" PGHOST=/var/run/postgresql
    psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER}" -p "${PGPORT:-5432}")
    if [[ "${POSTGRES_DB}" != "postgres" ]]; then
        "${psql[@]}" --dbname postgres \
            -c "CREATE DATABASE \"${POSTGRES_DB}\"" >/dev/null
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case "${f}" in
            *.sh)
                if [[ -x "${f}" ]]; then
                    echo "docker-entrypoint: running ${f}"
                    "${f}"
                else
                    echo "docker-entrypoint: sourcing ${f}"
                    # shellcheck disable=SC1090
                    . "${f}"
                fi
                ;;
            *.sql) echo "docker-entrypoint: running ${f}"; "${psql[@]}" --dbname "${POSTGRES_DB}" -f "${f}" ;;
            *.sql.gz) echo "docker-entrypoint: running ${f}"; gunzip -c "${f}" | "${psql[@]}" --dbname "${POSTGRES_DB}" ;;
            "/docker-entrypoint-initdb.d/*") ;;
            *) echo "docker-entrypoint: ignoring ${f}" ;;
        esac
    done
    pg_ctl -D "${PGDATA}" -m fast -w stop
    unset PGPASSWORD PGHOST
    echo "docker-entrypoint: PostgreSQL init process complete; ready for start up."
fi

exec "$@"
