#!/usr/bin/env bash
# The reachability scan's cost in a report: bench-reach_scan's report times with the scan off
# (reach=0) and on, for 10,000 threads, for 1 GiB of live heap, and for both; the difference is
# the scan's. Usage: tests/bench/reach_scan.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
for config in "10000 0" "10 1024" "10000 1024"; do
  set -- $config
  off=$(THREADLEAK_OPTIONS=at_exit=0:reach=0 "$build/bin/bench-reach_scan" "$1" "$2")
  on=$(THREADLEAK_OPTIONS=at_exit=0:reach=1 "$build/bin/bench-reach_scan" "$1" "$2")
  printf '%6s threads, %5s MiB heap: report %8.1f ms without the scan, %8.1f ms with it: scan %8.1f ms (ratio %.2f)\n' \
    "$1" "$2" "$off" "$on" "$(echo "$on - $off" | bc -l)" "$(echo "$on / $off" | bc -l)"
done
