#!/bin/sh
# Grafana's admin password for docker-compose.yml, then Grafana itself (the arguments, /run.sh).
# `docker compose up` must work in one command, yet Grafana must never come up as admin/admin:
# unless GRAFANA_ADMIN_PASSWORD is set, a random password is made once and kept in Grafana's
# own volume, where `docker compose exec grafana cat FILE` shows it.
# Grafana reads the password only when it first creates its database: changing it later is
# `docker compose exec grafana grafana cli admin reset-admin-password NEW`.
set -eu
file="${UECFLOW_GRAFANA_PASSWORD_FILE:-/var/lib/grafana/uecflow-admin-password}"

if [ -n "${GF_SECURITY_ADMIN_PASSWORD:-}" ]; then
  echo "uecflow: Grafana admin password from GRAFANA_ADMIN_PASSWORD" >&2
else
  if [ ! -s "$file" ]; then
    umask 077
    # From /dev/urandom: the shell's $RANDOM is not meant for secrets.
    LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 >"$file"
    echo "uecflow: WARNING: GRAFANA_ADMIN_PASSWORD is not set; a random admin password was made" >&2
  fi
  GF_SECURITY_ADMIN_PASSWORD="$(cat "$file")"
  export GF_SECURITY_ADMIN_PASSWORD
  echo "uecflow: Grafana user admin, password: docker compose exec grafana cat $file" >&2
fi
exec "$@"
