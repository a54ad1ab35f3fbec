/* The platform layer: everything threadleak knows of the CPU, of glibc's ABI and of the kernel's,
   so that no other file names a register, a private field of a lock, a symbol version or a system
   call's arguments. One header per CPU (x86_64.h, aarch64.h), one for glibc, one for the kernel
   (linux.h); each states the layouts it relies on as static assertions, so that a platform that
   differs fails to compile with a message, not to run. */
#ifndef TL_PLATFORM_H
#define TL_PLATFORM_H

#include <features.h> /* __GLIBC__ */

#if !defined(__linux__) || !defined(__GLIBC__) || __GLIBC__ < 2 ||                                 \
    (__GLIBC__ == 2 && __GLIBC_MINOR__ < 34)
#error "threadleak needs Linux with glibc 2.34 or later"
#endif

#if defined(__x86_64__)
#include "platform/x86_64.h"
#elif defined(__aarch64__)
#include "platform/aarch64.h"
#else
#error "threadleak supports x86_64 and aarch64"
#endif

#include "platform/glibc.h"
#include "platform/linux.h"

#endif
