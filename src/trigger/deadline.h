/* deadline=DURATION: a report, then the end with status 124, as timeout(1) gives. */
#ifndef TL_TRIGGER_DEADLINE_H
#define TL_TRIGGER_DEADLINE_H

/* Before main: the clock starts, and so does the helper thread, which keeps it. */
void tl_deadline_start(void);

#endif
