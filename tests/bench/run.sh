#!/usr/bin/env bash
# Each workload bare and under the library, alternately, RUNS times; prints the median times and
# the median of the paired ratios (each run under the library against the bare run just before it,
# which cancels most of what a shared 2-core machine does to both).
# Usage: tests/bench/run.sh [BUILD_DIR] [RUNS]
# TL_BENCH_OPTIONS: THREADLEAK_OPTIONS of the runs under the library (default at_exit=0), e.g.
# at_exit=0:watch=1s for what watching costs the program. TL_BENCH_HEAVY=0 leaves out the file
# read and xz, TL_BENCH_CHURN=0 the heap over a million threads.
set -euo pipefail
build=${1:-build}
runs=${2:-7}
lib=$(realpath "$build/lib/libthreadleak.so")
options=${TL_BENCH_OPTIONS:-at_exit=0}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

bench() { # name command...
  local name=$1 bare=() wrapped=() ratios=() b w; shift
  for _ in $(seq "$runs"); do
    b=$("$@")
    w=$(LD_PRELOAD=$lib THREADLEAK_OPTIONS=$options "$@")
    bare+=("$b") wrapped+=("$w") ratios+=("$(echo "$w / $b" | bc -l)")
  done
  printf '%-40s bare %9.4f s   threadleak %9.4f s   ratio %.3f\n' "$name" \
    "$(printf '%s\n' "${bare[@]}" | median)" "$(printf '%s\n' "${wrapped[@]}" | median)" \
    "$(printf '%s\n' "${ratios[@]}" | median)"
}

bench "uncontended mutex lock/unlock x100M" "$build/bin/bench-mutex" 100000000
bench "cond ping-pong, 2 threads x200k" "$build/bin/bench-cond_pingpong" 200000
bench "pipe ping-pong, 2 threads x200k" "$build/bin/bench-pipe_pingpong" 200000
bench "pthread_create+join x100k" "$build/bin/bench-create_join" 100000
bench "syscall(SYS_getpid) x2M" "$build/bin/bench-syscall" 2000000
bench "sem_post+sem_wait, a recorded wait, x20M" "$build/bin/bench-wait_record" 20000000

# 1 GiB read in 4 KiB blocks from the page cache, file-heavy programs, and a real program (xz -T2
# on 100 MB); TL_BENCH_HEAVY=0 leaves them out.
if [ "${TL_BENCH_HEAVY:-1}" = 1 ]; then
  data=$(mktemp -d)
  trap 'rm -rf "$data"' EXIT
  head -c 1G /dev/zero > "$data/zeros"
  cat "$data/zeros" > /dev/null
  bench "read 1 GiB in 4 KiB blocks" "$build/bin/bench-file_read" "$data/zeros"
  # Open, read and close 10,000 small files (issue 17's target: 1.02), and ripgrep, tar and find
  # over /usr/share/doc when they are installed.
  mkdir "$data/tree"
  "$build/bin/bench-files" --make "$data/tree" 10000
  bench "open+read+close 10,000 small files x5" "$build/bin/bench-files" "$data/tree" 5
  # A program's wall time, read from bash's own clock: the library, preloaded into the function's
  # commands, is in the program only (bc runs after the clock stops).
  wall() { local a=$EPOCHREALTIME; "$@" > /dev/null 2>&1; echo "$EPOCHREALTIME - $a" | bc -l; }
  if command -v rg > /dev/null; then
    bench "rg -c the /usr/share/doc" wall rg -c the /usr/share/doc
  fi
  bench "tar cf - /usr/share/doc" wall tar cf - /usr/share/doc
  bench "find /usr/share/doc -type f -exec cat {} +" wall find /usr/share/doc -type f -exec cat {} +
  if command -v redis-server > /dev/null && command -v redis-benchmark > /dev/null; then
    # Debian's redis-server (jemalloc, io-threads) serving redis-benchmark on a unix socket: the
    # seconds for 200,000 SETs and GETs from 50 clients; the library in the server alone. The
    # client shares the 2 cores: a few percent of noise run to run.
    redis() {
      local preload=${LD_PRELOAD:-} sock=$data/redis.sock pid a
      rm -f "$sock"
      LD_PRELOAD=$preload redis-server --port 0 --unixsocket "$sock" --save '' --appendonly no \
        --io-threads 2 > /dev/null 2>&1 &
      pid=$!
      for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
      a=$EPOCHREALTIME
      LD_PRELOAD= redis-benchmark -s "$sock" -q -n 200000 -c 50 -t set,get > /dev/null 2>&1
      echo "$EPOCHREALTIME - $a" | bc -l
      kill "$pid"
      wait "$pid" 2> /dev/null || true
    }
    bench "redis-benchmark -n 200000 -t set,get" redis
  fi
  head -c 100M /dev/urandom | base64 > "$data/text"
  bench "xz -T2 -1 on 135 MB" wall xz -T2 -1 -c "$data/text"
fi

THREADLEAK_OPTIONS=at_exit=0 "$build/bin/bench-verify_10k"

# Why waits save registers and unwind only when a report asks: the two costs per wait.
"$build/bin/bench-unwind_cost"

[ "${TL_BENCH_CHURN:-1}" = 1 ] || exit 0
# The library's heap over 1,000,000 create/join (or detach) cycles, measured inside the program.
churn=$(LD_PRELOAD=$lib THREADLEAK_OPTIONS=at_exit=0 "$build/tests/scenarios/churn" 1000000)
echo "churn under threadleak: $churn"
