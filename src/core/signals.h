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
/* sig's default action is ours: act's handler writes a report, then does what SIG_DFL does. So the
   program sees SIG_DFL where act is installed, and installing SIG_DFL installs act: a runtime
   that saves the old action to chain to it (the JVM) never calls ours, and a program that puts
   the default back gets its report. A handler of its own, or SIG_IGN, takes the signal. act is
   kept, not copied: it must last. */
void tl_signal_stand_in(int sig, const struct sigaction *act);
bool tl_signal_is_ours(int sig); /* our handler is the installed one */

/* True when sig is one the library handles, or handled: only then do the wrappers look closer. */
bool tl_signal_watched(int sig);
/* What the program's sigaction(sig, act) installs: act, or ours when act asks for the default of a
   signal that ours stands in for. */
const struct sigaction *tl_signal_request(int sig, const struct sigaction *act);
/* The program installed handler for sig (SIG_DFL and SIG_IGN included). */
void tl_signal_installed(int sig, void (*handler)(int));
/* The old action the program is shown: SIG_DFL where ours stands in for it. */
void tl_signal_shown(int sig, struct sigaction *old);
/* The program waits for the signals in set (sigwait, sigwaitinfo, sigtimedwait, signalfd). */
void tl_signal_awaited(const sigset_t *set);

/* A real-time signal that no one uses: at its default disposition, and never the library's nor
   taken by the program. From the top, where programs rarely look. 0 when there is none. Not
   async-signal-safe in the sense that it reads dispositions: call it from the helper or start-up. */
int tl_signal_free(void);
/* "SIGSEGV", "SIGRTMIN+3", or "signal 70", in buf (16 bytes); safe in a signal handler. */
const char *tl_signal_name(int sig, char *buf);

#endif
