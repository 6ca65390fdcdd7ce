#!/usr/bin/env bash
# The whole suite on SQLite, then on PostgreSQL (DATABASE_URL, or the local server at 127.0.0.1:5432).
# XIETONG_REQUIRE_PG=1 turns an unreachable PostgreSQL into a failure (CI sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTEST=(.venv/bin/python -m pytest -n "${XIETONG_TEST_WORKERS:-2}" -q -p no:randomly "$@")
export XIETONG_HOME="${XIETONG_HOME:-$PWD/var}"
export XIETONG_INPROCESS_TASKS=0

echo "==> 测试（SQLite）"
env -u DATABASE_URL "${PYTEST[@]}"

PG_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/xietong}"
if .venv/bin/python - "$PG_URL" <<'PY'
import sys
import psycopg
import dj_database_url
cfg = dj_database_url.parse(sys.argv[1])
try:
    psycopg.connect(host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], password=cfg["PASSWORD"] or None,
                    dbname="postgres", connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL 不可用：{exc}")
    sys.exit(1)
PY
then
  echo "==> 测试（PostgreSQL: ${PG_URL%%@*}@…）"
  DATABASE_URL="$PG_URL" "${PYTEST[@]}"
else
  if [ "${XIETONG_REQUIRE_PG:-0}" = "1" ]; then
    echo "!! XIETONG_REQUIRE_PG=1 但 PostgreSQL 不可达：失败"; exit 1
  fi
  echo "!! 跳过 PostgreSQL 测试：未能连接 $PG_URL（设置 DATABASE_URL 或启动本机 PostgreSQL）"
fi
