#!/usr/bin/env bash
# A live dump of 10,000 blocked threads: from the signal to the closed report file (several runs),
# `threadleak dump PID` from start to exit, and, on the same process, gdb's and eu-stack's
# all-thread backtraces when they are installed.
# Usage: tests/bench/live_dump.sh [BUILD_DIR] [THREADS]
set -euo pipefail
build=$(realpath "${1:-build}")
threads=${2:-10000}
dir=$(mktemp -d)
trap 'exec 3>&-; rm -rf "$dir"' EXIT
mkfifo "$dir/stdin"
mkdir "$dir/out"

LD_PRELOAD=$build/lib/libthreadleak.so THREADLEAK_OPTIONS="at_exit=0:output=$dir/out/r.%n.txt" \
  "$build/bin/bench-live_dump" "$dir/out" "$threads" 5 < "$dir/stdin" > "$dir/log" &
exec 3> "$dir/stdin"
until grep -q '^ready' "$dir/log"; do sleep 0.2; done
grep -v '^ready' "$dir/log"
pid=$(awk '/^ready/ {print $2}' "$dir/log")

seconds() { local start end; start=$(date +%s.%N); "$@" > /dev/null 2>&1 || true; end=$(date +%s.%N); echo "$end - $start" | bc; }
for _ in 1 2 3; do
  printf 'threadleak dump (text):  %.3f s\n' "$(seconds "$build/bin/threadleak" dump "$pid")"
done
printf 'threadleak dump (json):  %.3f s\n' "$(seconds "$build/bin/threadleak" dump -f json "$pid")"
if command -v gdb > /dev/null; then
  printf 'gdb thread apply all bt: %.3f s\n' "$(seconds gdb -p "$pid" -batch -ex 'thread apply all bt')"
fi
if command -v eu-stack > /dev/null; then
  printf 'eu-stack:                %.3f s\n' "$(seconds eu-stack -p "$pid")"
fi
