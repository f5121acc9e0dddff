#!/usr/bin/env bash
# Install the systemd units for this checkout (run as root on a machine booted with systemd).
# Safe to run again (after a `git pull`): it creates what is missing, rewrites only units that
# changed, and never touches an existing /etc/platecheck/env.
#   sudo bash deploy/install-systemd.sh
# DESTDIR puts /etc under another root (tests, packaging); the account, ownership and systemctl
# still go through the commands on PATH. NGINX_USER (default www-data) is the proxy's account,
# added to the platecheck group so that it can send photos (X-Accel-Redirect) and static files.
set -euo pipefail
app_dir="$(cd "$(dirname "$0")/.." && pwd)"
user=platecheck
etc_dir="${DESTDIR:-}/etc/platecheck"
unit_dir="${DESTDIR:-}/etc/systemd/system"
nginx_user="${NGINX_USER:-www-data}"

# The account every unit runs as: a system user without a login shell. Its home is the state
# folder, so caches that libraries keep under $HOME land somewhere it may write.
getent group "$user" > /dev/null || groupadd --system "$user"
getent passwd "$user" > /dev/null || useradd --system --gid "$user" --no-create-home \
  --home-dir "$app_dir/var" --shell /usr/sbin/nologin --comment "platecheck services" "$user"
members="$(getent group "$user" | cut -d: -f4)"
if getent passwd "$nginx_user" > /dev/null && [[ ",$members," != *",$nginx_user,"* ]]; then
  usermod --append --groups "$user" "$nginx_user"
fi

# What the services write (the paths deploy/env.example and the units name), private to the
# account and its group: var/ (celery beat's schedule), MEDIA_ROOT var/media (photos, gate
# frames) and STATIC_ROOT var/static (collectstatic). /run/platecheck is systemd's
# (RuntimeDirectory=). Not recursive: a large media folder is left as it is.
for dir in var var/media var/static; do
  install -d -m 0750 "$app_dir/$dir"
  chown "$user:$user" "$app_dir/$dir"
done

# The environment: systemd reads it as root; the group may read it to run manage.py.
install -d -m 0750 "$etc_dir"
chown "root:$user" "$etc_dir"
if [ ! -e "$etc_dir/env" ]; then
  # A new SECRET_KEY per installation: the example's placeholder is refused when DEBUG is off.
  bash "$app_dir/deploy/make-env.sh" "$etc_dir/env"
  chown "root:$user" "$etc_dir/env"
  chmod 0640 "$etc_dir/env"
fi

install -d -m 0755 "$unit_dir"
changed=0
for unit in "$app_dir"/deploy/systemd/*.service; do
  target="$unit_dir/$(basename "$unit")"
  if ! sed "s#@APP_DIR@#$app_dir#g" "$unit" | cmp -s - "$target"; then
    sed "s#@APP_DIR@#$app_dir#g" "$unit" > "$target.new"
    chmod 0644 "$target.new"
    mv -f "$target.new" "$target"
    changed=1
  fi
done
if [ "$changed" = 1 ]; then
  systemctl daemon-reload
fi

cat << EOF
installed for $app_dir. Edit $etc_dir/env (DATABASE_URL, ALLOWED_HOSTS, ...), then:
  cd $app_dir && sudo -u $user bash -c 'set -a; . $etc_dir/env; set +a; \\
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py collectstatic --no-input'
  systemctl enable --now platecheck-web platecheck-worker platecheck-beat platecheck-recognition@0 platecheck-gates
EOF
