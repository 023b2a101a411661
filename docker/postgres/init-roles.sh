#!/bin/bash
# Runs once, when the postgres container starts on an empty data directory
# (mounted into /docker-entrypoint-initdb.d). Creates:
#   - the schema owner (VECTOR_DB_OWNER): owns the database; migrations connect as it
#     (DATABASE_OWNER_URL);
#   - the application role (VECTOR_DB_APP_USER): what web, worker and beat connect as
#     (DATABASE_URL). It owns nothing, is no superuser and cannot bypass row-level
#     security, so the tenant policies apply to every query it makes. `migrate` grants it
#     data privileges on each table it creates.
set -euo pipefail

: "${VECTOR_DB_NAME:=vector_crm}"
: "${VECTOR_DB_OWNER:=vector_owner}"
: "${VECTOR_DB_APP_USER:=vector_app}"
: "${VECTOR_DB_OWNER_PASSWORD:?set VECTOR_DB_OWNER_PASSWORD}"
: "${VECTOR_DB_APP_PASSWORD:?set VECTOR_DB_APP_PASSWORD}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v db="$VECTOR_DB_NAME" -v owner="$VECTOR_DB_OWNER" -v owner_password="$VECTOR_DB_OWNER_PASSWORD" \
    -v app="$VECTOR_DB_APP_USER" -v app_password="$VECTOR_DB_APP_PASSWORD" <<'SQL'
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
CREATE ROLE :"app" LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
CREATE DATABASE :"db" OWNER :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";
\connect :"db"
-- PostgreSQL 15: schema public belongs to the database owner; the app may use it, not create in it.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
SQL
