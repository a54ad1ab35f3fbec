/* How `threadleak dump PID` asks a running process for a report, shared by the tool (src/cli/) and
   the library (live.c). No file is made and no ptrace is needed:

   1. The tool finds the library's helper thread in /proc/PID/task/TID/comm, named
      "threadleak/V:N": V the protocol's version, N the signal the library answers ("-" when the
      program took that signal over).
   2. The tool listens on an abstract unix socket named TL_DUMP_SOCKET (its own pid, a random
      cookie): abstract names live in no directory, so nothing is left behind.
   3. The tool sends signal N to the helper thread with rt_tgsigqueueinfo; the value carries
      TL_DUMP_MAGIC, the version, the format and the cookie. A plain `kill -N`, or a value without
      the magic, asks for a report to the output option instead.
   4. The library connects from its helper thread, checks that the listener is the sender (peer
      credentials), and writes TL_DUMP_HEADER with the version and the report's length, then the
      report; or TL_DUMP_REFUSED with its own version when the tool's is another. The tool checks
      that the peer is PID, and that the whole report came.

   Version 1 (threadleak 0.1) named the helper "threadleak:N" and had no version in the value or
   the header: the tool recognises such a library by its helper's name and says so. */
#ifndef TL_DUMP_PROTOCOL_H
#define TL_DUMP_PROTOCOL_H

#include <stdint.h>

#define TL_DUMP_VERSION 2
#define TL_DUMP_MAGIC 0x544cu                     /* "TL", bits 63..48 of the value */
#define TL_DUMP_SOCKET "threadleak-dump.%d.%08x"  /* after the abstract namespace's leading NUL */
#define TL_DUMP_HEADER "threadleak-dump %u %zu\n" /* the version, the report's length in bytes */
#define TL_DUMP_REFUSED "threadleak-dump %u refused\n" /* the library's version */
#define TL_HELPER_NAME "threadleak/"                   /* the helper thread's name, before "V:N" */
#define TL_HELPER_NAME_V1 "threadleak:"

static inline uint64_t tl_dump_value(unsigned format, uint32_t cookie)
{
    return (uint64_t)TL_DUMP_MAGIC << 48 | (uint64_t)TL_DUMP_VERSION << 40 |
           (uint64_t)(format & 0xff) << 32 | cookie;
}

#endif
