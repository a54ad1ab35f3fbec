/* What every part of threadleak shares: visibility, branch hints. Each layer's modules have their
   own headers; see src/README.md for the layers and which may use which. */
#ifndef TL_H
#define TL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TL_API __attribute__((visibility("default")))
#define TL_LIKELY(x) __builtin_expect(!!(x), 1)
#define TL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TL_LENGTH(array) (sizeof(array) / sizeof *(array))
/* Thread-local variables that wrappers read on every call: the fastest TLS model, which a library
   loaded at start (preloaded or linked) may use. */
#define TL_TLS __thread __attribute__((tls_model("initial-exec")))
/* A zeroed table most processes touch little or none of. GCC on x86-64 lays these out after every
   other zeroed variable (.lbss), so that the small state every process touches at start shares a
   few pages instead of lying between 17 MiB of tables: each page touched first costs a fault. Other
   compilers and targets would give .lbss room in the file; there the tables stay in .bss. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TL_LARGE __attribute__((section(".lbss")))
#else
#define TL_LARGE
#endif

#endif
