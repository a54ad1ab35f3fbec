/* Live dumps: a report of the running process on a signal, and for `threadleak dump`. */
#ifndef TL_TRIGGER_LIVE_H
#define TL_TRIGGER_LIVE_H

void tl_live_start(void); /* before main: the handler, and the helper thread's job */
void tl_live_fork_child(void);

#endif
