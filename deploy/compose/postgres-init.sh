#!/usr/bin/env bash
# One database and one owner role per service, for the local docker-compose stack only.
#
# Mounted into /docker-entrypoint-initdb.d/, so the postgres image runs it once, on an empty
# data volume. It is idempotent: after adding a service to an existing volume, run it again:
#   docker compose exec postgres /docker-entrypoint-initdb.d/10-service-databases.sh
#
# SERVICE_DATABASES: space- or comma-separated service names (e.g. "registration billing").
# <NAME>_DB_PASSWORD: the password of each service's role (e.g. REGISTRATION_DB_PASSWORD).
set -euo pipefail

: "${SERVICE_DATABASES:?set SERVICE_DATABASES to the services that need a database}"
PGUSER="${POSTGRES_USER:-postgres}"
PGDATABASE="${POSTGRES_DB:-postgres}"
export PGUSER PGDATABASE

for db in ${SERVICE_DATABASES//,/ }; do
    var="$(printf '%s' "${db}" | tr '[:lower:]-' '[:upper:]_')_DB_PASSWORD"
    password="${!var:-}"
    if [[ -z "${password}" ]]; then
        echo "postgres-init: ${var} is not set (password of the '${db}' role)" >&2
        exit 1
    fi
    psql -v ON_ERROR_STOP=1 --no-psqlrc -q -v db="${db}" -v password="${password}" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'db', :'password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'db')\gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'db', :'password')\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'db')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')\gexec
SQL
    echo "postgres-init: database '${db}' owned by role '${db}' is ready"
done
