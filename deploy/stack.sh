#!/usr/bin/env bash
# The production-like stack on this machine without systemd: gunicorn, a default-queue worker,
# one recognition worker per GPU (concurrency 1) and beat, against Debian's PostgreSQL and Redis.
#   bash deploy/stack.sh start|stop|status
# Settings come from deploy/env (copied from deploy/env.example on first start).
set -euo pipefail
cd "$(dirname "$0")/.."
run=var/run
logs=var/log
mkdir -p "$run" "$logs"
[ -f deploy/env ] || bash deploy/make-env.sh deploy/env
set -a; . deploy/env; set +a
celery=.venv/bin/celery

# Foreground processes under nohup: Django's logging writes to stderr, which goes to the log.
launch() {
  local name="$1"; shift
  nohup "$@" >> "$logs/$name.log" 2>&1 &
  echo $! > "$run/$name.pid"
}

start() {
  # A second start would overwrite the pid files: a second beat (every periodic task twice) and
  # workers that `stop` can no longer find.
  for pidfile in "$run"/*.pid; do
    [ -e "$pidfile" ] || continue
    if kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "$(basename "$pidfile" .pid) is already running; bash deploy/stack.sh stop first" >&2
      exit 1
    fi
    rm -f "$pidfile"
  done
  .venv/bin/python manage.py migrate --no-input -v 0
  .venv/bin/python manage.py collectstatic --no-input -v 0
  # The gunicorn workers' shared metrics folder (made and emptied by gunicorn at each start).
  PROMETHEUS_MULTIPROC_DIR="$PWD/$run/prometheus" \
    launch web .venv/bin/gunicorn --config deploy/gunicorn.conf.py
  launch worker-default $celery -A webapp worker -Q default -n default@%h --concurrency 2
  local gpus="${RECOGNITION_GPUS:-}"
  if [ -z "$gpus" ]; then gpus="cpu"; fi
  for gpu in ${gpus//,/ }; do
    CUDA_VISIBLE_DEVICES="$([ "$gpu" = cpu ] && echo "" || echo "$gpu")" \
      launch "worker-recognition-$gpu" $celery -A webapp worker -Q recognition,backlog \
      -n "recognition-$gpu@%h" --concurrency 1 --prefetch-multiplier 1
  done
  # Parking gates (issue #16): their own queue and worker, never behind the recognition backlog.
  GATES_PRELOAD_ENGINE=1 launch worker-gates $celery -A webapp worker -Q gates -n gates@%h \
    --concurrency 2 --prefetch-multiplier 1
  launch beat $celery -A webapp beat --schedule var/celerybeat-schedule
  echo "started; web on http://${GUNICORN_BIND}/ , logs in $logs/"
}

stop() {
  for pidfile in "$run"/*.pid; do
    [ -e "$pidfile" ] || continue
    kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
  echo "stopped"
}

status() {
  for pidfile in "$run"/*.pid; do
    [ -e "$pidfile" ] || continue
    if kill -0 "$(cat "$pidfile")" 2>/dev/null; then state=running; else state=dead; fi
    printf '%-32s %s\n' "$(basename "$pidfile" .pid)" "$state"
  done
  curl -fsS "http://${GUNICORN_BIND}/healthz" && echo
}

case "${1:-}" in
  start | stop | status) "$1" ;;
  *) echo "usage: bash deploy/stack.sh start|stop|status" >&2; exit 2 ;;
esac
