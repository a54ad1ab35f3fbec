/* The thread registry: one record per thread created through pthread_create, from the call until
   the thread has ended and been joined or detached. */
#ifndef TL_CORE_REGISTRY_H
#define TL_CORE_REGISTRY_H

#include "core/lock.h"
#include "core/stack.h"
#include "core/wait.h"

#include <pthread.h>
#include <uthash.h>

/* One thread for ever, even once its tid is reused: the kernel's start time of a thread we did not
   make, our own creation number (with TL_ID_OURS) of one we did. */
typedef struct tl_thread_id {
    pid_t tid;
    unsigned long long start;
} tl_thread_id;
#define TL_ID_OURS (1ull << 63)
_Static_assert(offsetof(tl_thread_id, tid) == 0, "sorted with tl_tid_cmp");

typedef struct tl_thread {
    UT_hash_handle hh; /* in the table, keyed by handle, while listed */
    pthread_t handle;
    atomic_int tid; /* 0 until the thread runs */
    pid_t creator_tid;
    const tl_stack *created_at;
    void *(*start)(void *);
    void *arg;
    atomic_bool exited;
    uint64_t exited_ns;
    tl_wait wait;        /* written by the thread itself, read by reports */
    uintptr_t stack_top; /* its first frame (ours), where unwinding a wait stops */
    size_t stack_size;
    char name[16]; /* the kernel's: inherited from the creator, then as set */
    uint64_t id;   /* tl_thread_id.start */
    int refs;      /* under the registry lock */
    bool detached, listed;
} tl_thread;

extern TL_TLS tl_thread *tl_self; /* the calling thread's record, if we made it */

/* A thread we made that has ended (its start routine returned), as the registry remembers the
   last 1024: for evidence ("exited 5 s ago"), and for reports, which may still find it in /proc
   for a moment (it runs glibc's thread exit, key destructors included) and must tell it from a
   thread they never saw; and its stack, which holds no thread's frames any more. */
typedef struct tl_ended {
    pid_t tid, creator_tid;
    uint64_t ns; /* when it ended */
    const tl_stack *created_at;
    char name[16];
    uintptr_t handle; /* its pthread_t: glibc's descriptor, at the top of its stack */
    size_t stack_size;
    uintptr_t sp; /* its stack pointer as it ended */
} tl_ended;

void tl_registry_init(void); /* main's name, which its first threads inherit */
tl_thread *tl_thread_new(void *(*start)(void *), void *arg, bool detached,
                         const tl_stack *created_at);
void tl_thread_creating(void); /* just before the real pthread_create */
void tl_thread_publish(tl_thread *t, pthread_t handle);
void tl_thread_abandon(tl_thread *t);                      /* the real pthread_create failed */
void tl_thread_started(tl_thread *t, uintptr_t stack_top); /* first thing in the new thread */
void tl_thread_ended(tl_thread *t);
tl_thread *tl_thread_hold(pthread_t handle); /* NULL when not ours; else release it after */
void tl_thread_joined(tl_thread *t);         /* each of these lets go of the hold */
void tl_thread_detached(tl_thread *t);
void tl_thread_release(tl_thread *t);
void tl_thread_set_name(pthread_t handle, const char *name);

/* pthread_create calls between the clone and the listing: a thread the kernel lists but the
   registry not yet. A report lets them finish first, for at most 50 ms, holding no lock. */
void tl_registry_settle(void);
/* Every listed thread, finished or not, each held: read them without the lock, then let go with
   tl_registry_release_all. The array is malloc'd; 0 and NULL when out of memory. */
size_t tl_registry_hold_all(tl_thread ***threads);
/* A held thread's tid. A thread created but not yet running has none, while the kernel already
   lists it: its first act is to store it, which takes no lock, so this waits for it, until a
   deadline the caller shares among all its threads. 0 for a thread not scheduled by then. */
pid_t tl_thread_tid(tl_thread *t, uint64_t deadline);
void tl_registry_release_all(tl_thread **threads, size_t n);
/* Calls fn for every listed thread under the registry's lock, which holds up the program's
   pthread_create and join meanwhile: fn only reads, takes no lock and allocates nothing. */
void tl_registry_each(void (*fn)(void *ctx, const tl_thread *t), void *ctx);
/* Threads created through pthread_create, and those that have ended, since the process started. */
void tl_registry_totals(uint64_t *made, uint64_t *finished);
/* Whether every thread of the registry whose tid is among tids (n of them, sorted) has ended. */
bool tl_registry_all_ended(const pid_t *tids, size_t n);
/* No thread listed, none being created, and none made by clone() (tl_registry_foreign) since the
   process or its fork started: the process has no thread but main, unless one was made by a raw
   system call. */
bool tl_registry_empty(void);
void tl_registry_foreign(void); /* clone() made a thread the registry will never list */
bool tl_registry_tracks(pid_t tid);
pid_t tl_registry_tid_of(pthread_t handle);       /* 0 when not listed or not yet running */
uint64_t tl_registry_exit_time(pid_t tid);        /* when a thread we made ended, 0 if unknown */
bool tl_registry_ended(pid_t tid, tl_ended *out); /* the latest thread of that tid that ended */
size_t tl_registry_ended_all(tl_ended **out);     /* all it remembers, malloc'd; 0 when none */
/* In main, from a frame just below main's own: its waits are recorded from now on. */
void tl_registry_main_starting(uintptr_t frames_top);
tl_wait *tl_registry_main_wait(void); /* main's wait record */
uintptr_t tl_registry_main_top(void); /* above it, main's stack holds argv and the environment */
void tl_registry_fork_prepare(void);
void tl_registry_fork_parent(void);
void tl_registry_fork_child(void);

#endif
