/* The report at normal exit. */
#ifndef TL_TRIGGER_EXIT_H
#define TL_TRIGGER_EXIT_H

/* Registers the exit report, just before main runs: exit handlers run last registered first, so it
   runs before static destructors and library destructors, while the threads it judges still find
   the program intact; and after a live report in progress, which it waits for. */
void tl_exit_register(void);

#endif
