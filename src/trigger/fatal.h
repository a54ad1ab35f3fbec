/* Reports on the signals that end the process: fatal ones (option fatal) and terminating ones
   (option terminate). */
#ifndef TL_TRIGGER_FATAL_H
#define TL_TRIGGER_FATAL_H

/* Before main: a handler for each such signal the program leaves at its default, and the helper
   thread's job that writes the report. */
void tl_fatal_start(void);

#endif
