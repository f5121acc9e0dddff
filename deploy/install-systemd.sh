#!/usr/bin/env bash
# Install the systemd units for this checkout (run as root on a machine booted with systemd).
set -euo pipefail
app_dir="$(cd "$(dirname "$0")/.." && pwd)"
install -d -m 0750 /etc/platecheck
# A new SECRET_KEY per installation: the example's placeholder is refused when DEBUG is off.
[ -f /etc/platecheck/env ] || bash "$app_dir/deploy/make-env.sh" /etc/platecheck/env
chmod 0640 /etc/platecheck/env
for unit in "$app_dir"/deploy/systemd/*.service; do
  sed "s#@APP_DIR@#$app_dir#g" "$unit" > "/etc/systemd/system/$(basename "$unit")"
done
systemctl daemon-reload
echo "edit /etc/platecheck/env, then:"
echo "  systemctl enable --now platecheck-web platecheck-worker platecheck-beat platecheck-recognition@0 platecheck-gates"
