/* Where a report goes. */
#ifndef TL_TRIGGER_OUTPUT_H
#define TL_TRIGGER_OUTPUT_H

#include "report/report.h"

/* Writes the whole buffer to target ("stderr", "stdout", or a path pattern). A file is new, 0600,
   never reached through a symbolic link; when it cannot be made the report goes to stderr. */
void tl_output_write(const char *target, const char *buf, size_t len);
bool tl_write_all(int fd, const char *buf, size_t len, bool socket); /* false on an error */
/* A report of the process now, in the format option, to the output option; a warning when memory
   runs out. */
void tl_output_report(const char *trigger, const tl_filter *filter);

#endif
