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

#endif
