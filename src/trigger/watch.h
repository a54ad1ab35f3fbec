/* Watching a running process: samples of its threads by group, a report when one keeps growing,
   the metrics file. */
#ifndef TL_TRIGGER_WATCH_H
#define TL_TRIGGER_WATCH_H

void tl_watch_start(void); /* before main: the helper thread's job, when watch is set */
void tl_watch_fork_child(void);

#endif
