/* The signals the library answers, and the program's claims on them. A trigger that installs a
   handler says so here; the wrappers of sigaction, signal, sigwait and signalfd report the
   program's own use, which always wins: the signal is then the program's, and the trigger hears of
   it through the callback it gave. Everything here is lock-free and safe in a signal handler
   (sigaction is async-signal-safe, and so must its wrapper be). */
#ifndef TL_CORE_SIGNALS_H
#define TL_CORE_SIGNALS_H

#include "tl.h"

#include <signal.h>

/* sig is handled by handler, ours; taken() runs when the program takes it back. */
void tl_signal_own(int sig, void (*handler)(int, siginfo_t *, void *), void (*taken)(int sig));
bool tl_signal_is_ours(int sig); /* our handler is the installed one */

/* True when sig is one the library handles, or handled: only then do the wrappers look closer. */
bool tl_signal_watched(int sig);
/* The program installed handler for sig (SIG_DFL and SIG_IGN included). */
void tl_signal_installed(int sig, void (*handler)(int));
/* The program waits for the signals in set (sigwait, sigwaitinfo, sigtimedwait, signalfd). */
void tl_signal_awaited(const sigset_t *set);

/* A real-time signal that no one uses: at its default disposition, and never the library's nor
   taken by the program. From the top, where programs rarely look. 0 when there is none. Not
   async-signal-safe in the sense that it reads dispositions: call it from the helper or start-up. */
int tl_signal_free(void);
/* "SIGUSR1", "SIGRTMIN+3", "SIGSEGV": the name a user types. */
const char *tl_signal_name(int sig, char buf[16]);

#endif
