#!/usr/bin/env bash
# Write a new environment file from deploy/env.example with a freshly generated SECRET_KEY
# (the example's placeholder is refused by the app when DEBUG is off). Never overwrites.
#   bash deploy/make-env.sh TARGET
set -euo pipefail
target="$1"
app_dir="$(cd "$(dirname "$0")/.." && pwd)"
if [ -e "$target" ]; then
  echo "$target exists; not touched" >&2
  exit 0
fi
key="$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
umask 077
sed "s#^SECRET_KEY=.*#SECRET_KEY=${key}#" "$app_dir/deploy/env.example" > "$target"
echo "wrote $target with a new SECRET_KEY"
