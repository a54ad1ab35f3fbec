/* Symbols, only when a report is written: libdwfl reads the modules mapped in this process and gives
   the function of every frame from the ELF symbol tables (static functions included), and the file
   and line from DWARF where the module, or its separate debug file, has them. */
#include "tl.h"

#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct sym_entry {
    UT_hash_handle hh;
    uintptr_t pc;
    tl_frame frame;
    char *name; /* owned: demangled, or stripped of its symbol version */
} sym_entry;

struct tl_symbolizer {
    Dwfl *dwfl;
    sym_entry *cache;
    char *(*demangle)(const char *mangled, char *buf, size_t *len, int *status);
};

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

tl_symbolizer *tl_symbolizer_new(void)
{
    tl_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->dwfl = dwfl_begin(&callbacks);
    if (s->dwfl) {
        dwfl_report_begin(s->dwfl);
        if (dwfl_linux_proc_report(s->dwfl, getpid()) != 0)
            tl_warn("cannot read this process's modules (%s); frames will have no names",
                    dwfl_errmsg(-1));
        dwfl_report_end(s->dwfl, NULL, NULL);
    }
    /* C++ names read better demangled; libstdc++ is there in every C++ program. */
    *(void **)&s->demangle = dlsym(RTLD_DEFAULT, "__cxa_demangle");
    return s;
}

static void resolve(tl_symbolizer *s, sym_entry *e)
{
    /* A return address points after the call: look up the call instruction itself. */
    Dwarf_Addr pc = e->pc - 1, bias = 0;
    tl_frame *f = &e->frame;
    f->function = "??";
    f->offset = pc;
    Dwfl_Module *m = s->dwfl ? dwfl_addrmodule(s->dwfl, pc) : NULL;
    if (!m)
        return;
    f->module = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (dwfl_module_getelf(m, &bias))
        f->offset = pc - bias;
    GElf_Sym sym;
    GElf_Off off;
    const char *name = dwfl_module_addrinfo(m, pc, &off, &sym, NULL, NULL, NULL);
    if (name) {
        int status = -1;
        if (s->demangle && strncmp(name, "_Z", 2) == 0)
            e->name = s->demangle(name, NULL, NULL, &status);
        if (status != 0) {
            free(e->name);
            /* "__libc_start_main@@GLIBC_2.34": the version is not part of the function's name. */
            e->name = strndup(name, strcspn(name, "@"));
        }
        f->function = e->name ? e->name : name;
    }
    Dwfl_Line *line = dwfl_module_getsrc(m, pc);
    int lineno = 0;
    const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
    if (file && lineno > 0) {
        f->file = file;
        f->line = (unsigned)lineno;
    }
}

const tl_frame *tl_symbolize(tl_symbolizer *s, uintptr_t return_address)
{
    sym_entry *e;
    HASH_FIND(hh, s->cache, &return_address, sizeof return_address, e);
    if (e)
        return &e->frame;
    static tl_frame unknown = {.function = "??"};
    if (!(e = calloc(1, sizeof *e)))
        return &unknown;
    e->pc = return_address;
    resolve(s, e);
    HASH_ADD(hh, s->cache, pc, sizeof e->pc, e);
    return &e->frame;
}

void tl_symbolizer_free(tl_symbolizer *s)
{
    if (!s)
        return;
    sym_entry *e, *next;
    HASH_ITER(hh, s->cache, e, next) {
        HASH_DELETE(hh, s->cache, e);
        free(e->name);
        free(e);
    }
    if (s->dwfl)
        dwfl_end(s->dwfl);
    free(s);
}
