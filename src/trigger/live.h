/* Live dumps: a report of the running process on a signal, and for `threadleak dump`. */
#ifndef TL_TRIGGER_LIVE_H
#define TL_TRIGGER_LIVE_H

void tl_live_start(void); /* before main: the handler, and the helper thread's job */
/* At exit, once the helper thread has stopped: the requests that came before exit began are
   answered here, by the exiting thread, so that none is lost (a signal that cut main's sleep short,
   and main returned). */
void tl_live_drain(void);
void tl_live_fork_child(void);

#endif
