/* Symbols, only when a report is written: libdwfl reads the modules mapped in this process and
   gives the function of every frame from the ELF symbol tables (static functions included), and the
   file and line from DWARF where the module, or its separate debug file, has them. A return address
   inside inlined code becomes several frames, innermost first, as addr2line -i prints them: the
   optimiser's inlining must not make a report name the wrong function. */
#include "report/symbols.h"

#include "core/base.h"
#include "core/lock.h"
#include "core/options.h"
#include "report/deps.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

#define MAX_INLINED 8

typedef struct sym_entry {
    UT_hash_handle hh;
    uintptr_t pc;
    unsigned nframes;
    tl_frame frames[MAX_INLINED];
    char *names[MAX_INLINED]; /* owned: demangled, or stripped of a symbol version */
} sym_entry;

struct tl_symbolizer {
    uint64_t key; /* of the modules it was made for */
    Dwfl *dwfl;
    sym_entry *cache;
    char *(*demangle)(const char *mangled, char *buf, size_t *len, int *status);
};

static char *debuginfo_path;
static Dwfl_Callbacks callbacks = {.debuginfo_path = &debuginfo_path};

/* Separate debug information: libdw's standard search, which asks debuginfod servers over the
   network as its last resort when DEBUGINFOD_URLS is set. Unless the debuginfod option allows
   that, a report looks only on this machine: by build-id, and by the standard search when no
   server is set (it then asks none). */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                          const char *file_name, const char *debuglink_file,
                          GElf_Word debuglink_crc, char **debuginfo_file_name)
{
    const char *servers = getenv("DEBUGINFOD_URLS");
    if (tl_opt.debuginfod || !servers || !*servers)
        return DW(dwfl_standard_find_debuginfo)(mod, userdata, modname, base, file_name,
                                                debuglink_file, debuglink_crc, debuginfo_file_name);
    return DW(dwfl_build_id_find_debuginfo)(mod, userdata, modname, base, file_name, debuglink_file,
                                            debuglink_crc, debuginfo_file_name);
}

/* The modules of this process, as the executable file mappings of /proc/thread-self/maps (through
   thread-self: once main has left with pthread_exit, the zombie leader's maps read empty), and a
   hash of them that ignores everything else (thread stacks come and go with threads). */
static char *read_maps(size_t *len, uint64_t *key)
{
    char *text = NULL, line[PATH_MAX + 128];
    FILE *maps = fopen("/proc/thread-self/maps", "re"), *all = open_memstream(&text, len);
    *key = 1469598103934665603u; /* FNV-1a */
    while (maps && all && fgets(line, sizeof line, maps)) {
        fputs(line, all);
        char perms[8] = "";
        if (sscanf(line, "%*s %7s", perms) == 1 && perms[2] == 'x' && strchr(line, '/'))
            for (const char *c = line; *c; c++)
                *key = (*key ^ (unsigned char)*c) * 1099511628211u;
    }
    if (maps)
        fclose(maps);
    if (all && fclose(all) != 0)
        text = NULL;
    return maps ? text : (free(text), NULL);
}

static tl_symbolizer *build(const char *maps_text, size_t len, uint64_t key)
{
    tl_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->key = key;
    FILE *maps = maps_text && tl_deps_load() ? fmemopen((void *)maps_text, len, "r") : NULL;
    callbacks.find_elf = DW(dwfl_linux_proc_find_elf);
    callbacks.find_debuginfo = find_debuginfo;
    s->dwfl = maps ? DW(dwfl_begin)(&callbacks) : NULL;
    if (s->dwfl) {
        DW(dwfl_report_begin)(s->dwfl);
        if (DW(dwfl_linux_proc_maps_report)(s->dwfl, maps) != 0)
            tl_warn("cannot read this process's modules (%s); frames will have no names",
                    DW(dwfl_errmsg)(-1));
        DW(dwfl_report_end)(s->dwfl, NULL, NULL);
    } else if (!maps_text) {
        tl_warn("cannot read /proc/thread-self/maps; frames will have no names");
    }
    if (maps)
        fclose(maps);
    /* C++ names read better demangled; libstdc++ is there in every C++ program. */
    *(void **)&s->demangle = dlsym(RTLD_DEFAULT, "__cxa_demangle");
    return s;
}

static void destroy(tl_symbolizer *s)
{
    sym_entry *e, *next;
    HASH_ITER(hh, s->cache, e, next)
    {
        HASH_DELETE(hh, s->cache, e);
        for (unsigned i = 0; i < e->nframes; i++)
            free(e->names[i]);
        free(e);
    }
    if (s->dwfl)
        DW(dwfl_end)(s->dwfl);
    free(s);
}

/* Reading a module's DWARF is most of a report's cost (libc's alone takes tens of ms), so one
   symbolizer is kept from report to report while the modules stay the same. A report that finds
   it in use by another makes its own. */
static tl_lock shared_lock;
static tl_symbolizer *shared;

tl_symbolizer *tl_symbolizer_new(void)
{
    size_t len = 0;
    uint64_t key;
    char *maps = read_maps(&len, &key);
    tl_symbolizer *s;
    if (tl_lock_try(&shared_lock)) {
        if (!shared || shared->key != key) {
            if (shared)
                destroy(shared);
            shared = build(maps, len, key);
        }
        if (!(s = shared))
            tl_lock_release(&shared_lock);
    } else {
        s = build(maps, len, key);
    }
    free(maps);
    return s;
}

/* A readable name for frame i: demangled, without "@@GLIBC_2.34". */
static void set_name(tl_symbolizer *s, sym_entry *e, unsigned i, const char *name)
{
    int status = -1;
    if (s->demangle && strncmp(name, "_Z", 2) == 0)
        e->names[i] = s->demangle(name, NULL, NULL, &status);
    if (status != 0) {
        free(e->names[i]);
        e->names[i] = strndup(name, strcspn(name, "@"));
    }
    e->frames[i].function = e->names[i] ? e->names[i] : name;
}

static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name =
        DW(dwarf_formstring)(DW(dwarf_attr_integrate)(die, DW_AT_linkage_name, &attr));
    return name ? name : DW(dwarf_formstring)(DW(dwarf_attr_integrate)(die, DW_AT_name, &attr));
}

/* Frames for the functions inlined at pc, innermost first; each one's caller line is the
   DW_AT_call_line of the inlined scope. Leaves the outermost function to the ELF symbol. */
static void expand_inlined(tl_symbolizer *s, sym_entry *e, Dwfl_Module *m, Dwarf_Addr pc)
{
    Dwarf_Addr bias;
    Dwarf_Die *cu = DW(dwfl_module_addrdie)(m, pc, &bias), *scopes = NULL;
    int nscopes = cu ? DW(dwarf_getscopes)(cu, pc - bias, &scopes) : 0;
    Dwarf_Files *files = NULL;
    if (nscopes > 0)
        DW(dwarf_getsrcfiles)(cu, &files, NULL);
    for (int i = 0; i < nscopes && e->nframes < MAX_INLINED; i++) {
        if (DW(dwarf_tag)(&scopes[i]) != DW_TAG_inlined_subroutine)
            continue;
        const char *name = die_name(&scopes[i]);
        set_name(s, e, e->nframes - 1, name ? name : "??");
        Dwarf_Attribute attr;
        Dwarf_Word file = 0, line = 0;
        tl_frame *caller = &e->frames[e->nframes++];
        *caller = e->frames[e->nframes - 2]; /* same module and offset */
        caller->function = "??";
        caller->file = NULL;
        caller->line = 0;
        if (files &&
            DW(dwarf_formudata)(DW(dwarf_attr)(&scopes[i], DW_AT_call_file, &attr), &file) == 0 &&
            DW(dwarf_formudata)(DW(dwarf_attr)(&scopes[i], DW_AT_call_line, &attr), &line) == 0) {
            caller->file = DW(dwarf_filesrc)(files, file, NULL, NULL);
            caller->line = (unsigned)line;
        }
    }
    free(scopes);
}

static void resolve(tl_symbolizer *s, sym_entry *e)
{
    /* A return address points after the call: look up the call instruction itself. */
    Dwarf_Addr pc = e->pc - 1, bias = 0;
    tl_frame *f = &e->frames[0];
    e->nframes = 1;
    f->function = "??";
    f->offset = pc;
    Dwfl_Module *m = s->dwfl ? DW(dwfl_addrmodule)(s->dwfl, pc) : NULL;
    if (!m)
        return;
    f->module = DW(dwfl_module_info)(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (DW(dwfl_module_getelf)(m, &bias))
        f->offset = pc - bias;
    Dwfl_Line *line = DW(dwfl_module_getsrc)(m, pc);
    int lineno = 0;
    const char *file = line ? DW(dwfl_lineinfo)(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
    if (file && lineno > 0) {
        f->file = file;
        f->line = (unsigned)lineno;
    }
    expand_inlined(s, e, m, pc);
    GElf_Sym sym;
    GElf_Off off;
    const char *name = DW(dwfl_module_addrinfo)(m, pc, &off, &sym, NULL, NULL, NULL);
    if (name)
        set_name(s, e, e->nframes - 1, name);
}

const tl_frame *tl_symbolize(tl_symbolizer *s, uintptr_t return_address, unsigned *n)
{
    sym_entry *e;
    HASH_FIND(hh, s->cache, &return_address, sizeof return_address, e);
    if (!e) {
        static const tl_frame unknown = {.function = "??"};
        *n = 1;
        if (!(e = calloc(1, sizeof *e)))
            return &unknown;
        e->pc = return_address;
        resolve(s, e);
        HASH_ADD(hh, s->cache, pc, sizeof e->pc, e);
    }
    *n = e->nframes;
    return e->frames;
}

void tl_symbolize_data(tl_symbolizer *s, uintptr_t addr, uintptr_t module_hint, char *buf,
                       size_t len)
{
    Dwfl_Module *m = s && s->dwfl ? DW(dwfl_addrmodule)(s->dwfl, addr) : NULL;
    if (!m && s && s->dwfl && module_hint) /* a .bss past the module's file-backed pages */
        m = DW(dwfl_addrmodule)(s->dwfl, module_hint);
    if (!m) {
        snprintf(buf, len, "at 0x%lx", (unsigned long)addr);
        return;
    }
    const char *path = DW(dwfl_module_info)(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    const char *base = path && strrchr(path, '/') ? strrchr(path, '/') + 1 : path ? path : "??";
    Dwarf_Addr bias = 0;
    GElf_Sym sym;
    GElf_Off off = 0;
    const char *name = DW(dwfl_module_addrinfo)(m, addr, &off, &sym, NULL, NULL, NULL);
    DW(dwfl_module_getelf)(m, &bias);
    if (!name) {
        snprintf(buf, len, "in %s+0x%lx", base, (unsigned long)(addr - bias));
        return;
    }
    int status = -1;
    char *demangled =
        s->demangle && strncmp(name, "_Z", 2) == 0 ? s->demangle(name, NULL, NULL, &status) : NULL;
    const char *shown = status == 0 ? demangled : name;
    if (off)
        snprintf(buf, len, "`%s`+0x%lx (%s)", shown, (unsigned long)off, base);
    else
        snprintf(buf, len, "`%s` (%s)", shown, base);
    free(demangled);
}

struct Dwfl *tl_symbolizer_dwfl(tl_symbolizer *s)
{
    return s->dwfl;
}

void tl_symbolizer_free(tl_symbolizer *s)
{
    if (s && s == shared)
        tl_lock_release(&shared_lock);
    else if (s)
        destroy(s);
}

/* Another thread may have been using it at the fork: the child leaves it be. */
void tl_symbolizer_fork_child(void)
{
    shared = NULL;
    tl_lock_reset(&shared_lock);
}
