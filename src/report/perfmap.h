/* JIT code, named by the perf map convention that every native profiler reads: /tmp/perf-PID.map,
   one "START SIZE NAME" a line (hexadecimal), appended by the runtime as it compiles: the JVM
   (-XX:+DumpPerfMapAtExit, jcmd PID Compiler.perfmap), node (--perf-basic-prof), Python 3.12
   (-X perf). A report reads it for the frames that fall outside every module. */
#ifndef TL_REPORT_PERFMAP_H
#define TL_REPORT_PERFMAP_H

#include "tl.h"

#include <stdint.h>

typedef struct tl_perfmap tl_perfmap;

/* Brings *map up to the file as it is now: kept while the file is unchanged, else read again
   (NULL when there is no file, or it is not a regular file of this process's user, as perf
   requires). True when *map changed. */
bool tl_perfmap_refresh(tl_perfmap **map);
/* The name of the code that holds pc, and pc's offset in it; NULL when no line covers pc. A later
   line for the same start wins (the runtime reused the memory). */
const char *tl_perfmap_find(const tl_perfmap *map, uintptr_t pc, uintptr_t *offset);
const char *tl_perfmap_path(const tl_perfmap *map); /* the file's, for the frames' module */
void tl_perfmap_free(tl_perfmap *map);

#endif
