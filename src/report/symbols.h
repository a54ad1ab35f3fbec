/* Names, files and lines of return addresses, only when a report is written. */
#ifndef TL_REPORT_SYMBOLS_H
#define TL_REPORT_SYMBOLS_H

#include "tl.h"

typedef struct tl_frame {
    const char *function; /* "??" when unknown */
    const char *file;     /* NULL without debug information */
    unsigned line;
    const char *module; /* path of the object, NULL when unknown */
    uintptr_t offset;   /* address of the call inside module */
} tl_frame;

typedef struct tl_symbolizer tl_symbolizer;
struct Dwfl;

/* The modules mapped now; NULL when out of memory. Kept from report to report while the modules
   stay the same. */
tl_symbolizer *tl_symbolizer_new(void);
void tl_symbolizer_free(tl_symbolizer *s);
/* The frames of one return address, innermost first: n >= 1, more than one when the call was
   inlined. */
const tl_frame *tl_symbolize(tl_symbolizer *s, uintptr_t return_address, unsigned *n);
struct Dwfl *tl_symbolizer_dwfl(tl_symbolizer *s); /* the modules it knows, NULL if none */
/* The global at a data address, "`name` (module)" or "`name`+0x10 (module)"; module_hint, an
   address in the same module, finds it when addr lies past its file's pages (.bss). */
void tl_symbolize_data(tl_symbolizer *s, uintptr_t addr, uintptr_t module_hint, char *buf,
                       size_t len);
/* Reads ahead what naming address will read (the modules, and the debug information of its
   module, the bulk of a first report's cost), and keeps it for the reports to come. */
void tl_symbolizer_prepare(uintptr_t address);
void tl_symbolizer_fork_child(void);

#endif
