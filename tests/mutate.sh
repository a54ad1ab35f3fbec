#!/usr/bin/env bash
# Mutation tests: each rule the verdicts rest on is broken by a one-line change, in a copy of the
# source tree, and the tests named with it must then fail. A mutation that leaves them green is a
# rule no test guards. Usage: tests/mutate.sh [NAME-SUBSTRING]  (from anywhere; takes minutes)
# Exit status: 0 when every mutation was caught, 1 when one survived, 2 when one no longer applies.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
only=${1:-}
copy=$(mktemp -d "${TMPDIR:-/tmp}/threadleak-mutate.XXXXXX")
trap 'rm -rf "$copy"' EXIT
tar -C "$root" --exclude=./build --exclude=./build-asan --exclude=./.git -cf - . | tar -C "$copy" -xf -
cmake --preset default -S "$copy" >/dev/null || exit 2
cmake --build "$copy/build" -j2 >/dev/null || exit 2

survived=0 stale=0
# mutate NAME FILE ANCHOR OLD NEW TESTS: in FILE, on the first line after one holding ANCHOR that
# holds OLD, OLD becomes NEW (fixed strings); TESTS (ctest names, |-separated) must fail.
mutate() {
    local name=$1 file=$copy/$2 anchor=$3 old=$4 new=$5 tests=$6
    [[ -z $only || $name == *"$only"* ]] || return 0
    cp "$file" "$file.orig"
    if ! awk -v a="$anchor" -v o="$old" -v n="$new" '
        !seen && index($0, a) { seen = 1 }
        seen && !done && (i = index($0, o)) { $0 = substr($0, 1, i - 1) n substr($0, i + length(o)); done = 1 }
        { print }
        END { exit done ? 0 : 3 }' "$file.orig" >"$file"; then
        echo "STALE     $name: '$old' not found after '$anchor' in $2"
        stale=1
    elif ! cmake --build "$copy/build" -j2 >/dev/null 2>&1; then
        echo "STALE     $name: does not build"
        stale=1
    elif ctest --test-dir "$copy/build" -R "^($tests)\$" -j2 >/dev/null 2>&1; then
        echo "SURVIVED  $name: $tests passed"
        survived=1
    else
        echo "caught    $name"
    fi
    mv "$file.orig" "$file"
    touch "$file" # the next build must see the original again
}

mutate cond_broadcast_not_noted src/interpose/sync.c "pthread_cond_broadcast(pthread_cond_t *c)" \
    "tl_waker_note((uintptr_t)c);" "(void)c;" \
    "scan_off_judges_by_the_wakers_alone"
mutate sem_post_not_noted src/interpose/sync.c "int sem_post(sem_t *s)" \
    "tl_waker_note((uintptr_t)s);" "(void)s;" \
    "scan_off_judges_a_semaphore_by_its_posters"
mutate forget_does_nothing src/core/wakers.c "void tl_wakers_forget(uintptr_t object)" \
    "size_t i = home(object, SLOTS);" "return; size_t i = home(object, SLOTS);" \
    "semaphore_destroyed_and_initialised_again_forgets_its_old_poster|full_wakers_table_recovers_and_never_guesses"
mutate readv_not_recorded src/interpose/io.c "readv(int fd, const struct iovec *iov, int n)" \
    "tl_state state = io_state(fd, false, &object);" "tl_state state = TL_RUNNING; object = 0;" \
    "thread_blocked_in_pipe_readv_is_reported_there"
mutate fresh_cond_not_told src/report/verdict.c "static void find_orphans" \
    "row->nwakers > 0 && row->unsignalled" "row->nwakers > 0 && false" \
    "condition_variable_reset_with_its_initializer_forgets_its_old_signaller|condition_variable_cleared_with_memset_forgets_its_old_signaller"
mutate shared_not_told src/report/verdict.c "static void find_orphans" \
    "if (row->shared || row->reach == TL_REACH_SHARED) {" "if (false) {" \
    "process_shared_mutex_held_by_a_child_process_is_never_orphaned"
mutate reachable_ignored src/report/verdict.c "static void find_orphans" \
    "if (!living && row->reach == TL_REACH_REACHABLE)" "if (false)" \
    "channel_in_a_global_is_blocked_and_names_the_global"
mutate interior_not_followed src/report/reach.c "static void mark_word" \
    "|| tl_region_test(r, chunk))" "|| tl_region_test(r, chunk) || w != chunk + TL_MALLOC_HEADER)" \
    "channel_held_by_an_interior_pointer_is_blocked|channel_held_by_a_tagged_pointer_is_blocked"
mutate reached_waiter_never_runs src/report/reach.c "static void reached" \
    "runs(s, c[lo].thread, origin);" "(void)0;" \
    "channel_held_by_a_thread_whose_heap_wait_is_reachable_is_blocked"
mutate unseen_root_ignored src/report/reach.c "What no root reached is unreachable" \
    "&& !why[0])" ")" \
    "running_thread_keeps_the_scan_from_calling_anything_unreachable"
mutate deleted_timer_still_held src/interpose/ipc.c "int tl_timer_delete(timer_t timer)" \
    "tl_held_drop(TL_HELD_TIMER, (uintptr_t)timer);" "(void)0;" \
    "timer_deleted_no_longer_holds_the_channel"

[[ $stale == 0 ]] || exit 2
exit $survived
