/* How `threadleak dump PID` asks a running process for a report, shared by the tool (cli.c) and the
   library (live.c). No file is made and no ptrace is needed:

   1. The tool finds the library's helper thread in /proc/PID/task/TID/comm, named "threadleak:N",
      N the signal the library answers (or "threadleak:-" when the program took that signal over).
   2. The tool listens on an abstract unix socket named TL_DUMP_SOCKET (its own pid, a random
      cookie): abstract names live in no directory, so nothing is left behind.
   3. The tool sends signal N with sigqueue; the value carries TL_DUMP_MAGIC, the format and the
      cookie. A plain `kill -N`, or a value without the magic, asks for a report to the output
      option instead.
   4. The library connects from its helper thread, checks that the listener is the sender (peer
      credentials), and writes TL_DUMP_HEADER with the report's length, then the report. The tool
      checks that the peer is PID, and that the whole report came. */
#ifndef TL_DUMP_PROTOCOL_H
#define TL_DUMP_PROTOCOL_H

#include <stdint.h>

#define TL_DUMP_MAGIC 0x544c44u         /* "TLD", bits 63..40 of the value */
#define TL_DUMP_SOCKET "threadleak-dump.%d.%08x" /* after the abstract namespace's leading NUL */
#define TL_DUMP_HEADER "threadleak-dump %zu\n"  /* the report's length in bytes */
#define TL_HELPER_NAME "threadleak:"     /* the helper thread's name, before the signal */
/* The formats by number, as the value carries them: tl_format's order. */
#define TL_FORMAT_NAMES "text", "full", "json", "pprof", "folded"

static inline uint64_t tl_dump_value(unsigned format, uint32_t cookie)
{
    return (uint64_t)TL_DUMP_MAGIC << 40 | (uint64_t)(format & 0xff) << 32 | cookie;
}

#endif
