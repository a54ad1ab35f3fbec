/* The process's file mappings, as /proc/self/maps lines. */
#ifndef TL_REPORT_MAPS_H
#define TL_REPORT_MAPS_H

#include <stddef.h>

/* The lines of the mappings of files and of the vDSO, as dwfl_linux_proc_maps_report reads them;
   malloc'd, *len bytes. NULL when they cannot be read. */
char *tl_maps_files(size_t *len);

#endif
