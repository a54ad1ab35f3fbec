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
#include "report/maps.h"
#include "report/perfmap.h"

#include <demangle.h> /* libiberty's */
#include <dlfcn.h>
#include <link.h>
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
    bool outside;             /* in no module: JIT code, named by the perf map, if at all */
} sym_entry;

struct tl_symbolizer {
    uint64_t key; /* of the modules it was made for */
    Dwfl *dwfl;
    tl_perfmap *jit;
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

/* Which modules are loaded: dl_iterate_phdr counts every load and unload, so that a report finds
   out without reading /proc (whose maps list every thread's stack: 20,000 lines with 10,000
   threads). */
static int count_loads(struct dl_phdr_info *info, size_t size, void *key)
{
    (void)size;
    *(uint64_t *)key = info->dlpi_adds << 32 | info->dlpi_subs;
    return 1;
}

static tl_symbolizer *build(uint64_t key)
{
    size_t len = 0;
    char *maps_text = tl_maps_files(&len);
    tl_symbolizer *s = calloc(1, sizeof *s);
    if (!s) {
        free(maps_text);
        return NULL;
    }
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
    free(maps_text);
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
    tl_perfmap_free(s->jit);
    free(s);
}

/* Frames in no module were named by the perf map that has just changed (or had none): named anew
   at their next lookup. */
static void forget_outside(tl_symbolizer *s)
{
    sym_entry *e, *next;
    HASH_ITER(hh, s->cache, e, next)
    {
        if (e->outside) {
            HASH_DELETE(hh, s->cache, e);
            free(e);
        }
    }
}

/* Reading a module's DWARF is most of a report's cost, so one symbolizer is kept from report to
   report while the modules stay the same (dl_iterate_phdr's load and unload counts). A report that
   finds it in use by another makes its own. */
static tl_lock shared_lock;
static tl_symbolizer *shared;

tl_symbolizer *tl_symbolizer_new(void)
{
    uint64_t key = 0;
    tl_deps_load(); /* first: the modules it maps are then among those the key counts */
    tl_symbolizer *s;
    dl_iterate_phdr(count_loads, &key);
    if (tl_lock_try(&shared_lock)) {
        if (!shared || shared->key != key) {
            if (shared)
                destroy(shared);
            shared = build(key);
        }
        if (!(s = shared))
            tl_lock_release(&shared_lock);
    } else {
        s = build(key);
    }
    if (s && tl_perfmap_refresh(&s->jit))
        forget_outside(s);
    return s;
}

/* A symbol as people read it, malloc'd (NULL when out of memory): a Rust name (legacy
   _ZN...17h<hash>E, or v0 _R...) by libiberty's demangler, without its hash; a C++ name by the
   program's own libstdc++; anything else without its symbol version ("@@GLIBC_2.34"). */
static char *demangle(const tl_symbolizer *s, const char *name)
{
    int status = -1;
    char *readable = NULL;
    if (strncmp(name, "_R", 2) == 0 || strncmp(name, "_ZN", 3) == 0)
        readable = rust_demangle(name, DMGL_PARAMS | DMGL_ANSI);
    if (!readable && s->demangle && strncmp(name, "_Z", 2) == 0) {
        readable = s->demangle(name, NULL, NULL, &status);
        if (status != 0) {
            free(readable);
            readable = NULL;
        }
    }
    return readable ? readable : strndup(name, strcspn(name, "@"));
}

/* A readable name for frame i. */
static void set_name(tl_symbolizer *s, sym_entry *e, unsigned i, const char *name)
{
    free(e->names[i]);
    e->names[i] = demangle(s, name);
    e->frames[i].function = e->names[i] ? e->names[i] : name;
}

/* The name of frame i from a function's DIE: its linkage name (demangled by set_name), or its plain
   name qualified by the namespaces and classes around its declaration, as a linkage name would
   be ("std::condition_variable::wait<...>", not "wait<...>"). */
static void name_from_die(tl_symbolizer *s, sym_entry *e, unsigned i, Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name =
        DW(dwarf_formstring)(DW(dwarf_attr_integrate)(die, DW_AT_linkage_name, &attr));
    if (name) {
        set_name(s, e, i, name);
        return;
    }
    if (!(name = DW(dwarf_formstring)(DW(dwarf_attr_integrate)(die, DW_AT_name, &attr)))) {
        set_name(s, e, i, "??");
        return;
    }
    /* The declaration: through an inlined instance's origin, and a definition's specification. */
    Dwarf_Die decl = *die, next;
    while (DW(dwarf_formref_die)(DW(dwarf_attr)(&decl, DW_AT_abstract_origin, &attr), &next) ||
           DW(dwarf_formref_die)(DW(dwarf_attr)(&decl, DW_AT_specification, &attr), &next))
        decl = next;
    Dwarf_Die *outer = NULL;
    int n = DW(dwarf_getscopes_die)(&decl, &outer); /* decl first, the compile unit last */
    char qualified[1024];
    size_t len = 0;
    for (int j = n - 2; j >= 1 && len < sizeof qualified; j--) {
        int tag = DW(dwarf_tag)(&outer[j]);
        const char *scope = DW(dwarf_formstring)(DW(dwarf_attr)(&outer[j], DW_AT_name, &attr));
        if (scope && (tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
                      tag == DW_TAG_structure_type || tag == DW_TAG_union_type))
            len += (size_t)snprintf(qualified + len, sizeof qualified - len, "%s::", scope);
    }
    free(outer);
    if (len < sizeof qualified)
        snprintf(qualified + len, sizeof qualified - len, "%s", name);
    set_name(s, e, i, qualified);
}

/* Frames for the functions inlined at pc, innermost first, as addr2line -i prints them: each level
   of the chain is a frame, its line the call line (DW_AT_call_file, DW_AT_call_line) of the level
   inside it. The chain is the nesting of the DIEs that hold pc (dwarf_getscopes follows an inlined
   instance to its abstract origin's scopes instead, and loses the callers). The outermost
   function is named by its ELF symbol, or its DIE. */
static void expand_inlined(tl_symbolizer *s, sym_entry *e, Dwfl_Module *m, Dwarf_Addr pc)
{
    Dwarf_Addr bias;
    Dwarf_Die *cu = DW(dwfl_module_addrdie)(m, pc, &bias), *scopes = NULL, *chain = NULL;
    if (!cu || DW(dwarf_getscopes)(cu, pc - bias, &scopes) <= 0) {
        free(scopes);
        return;
    }
    Dwarf_Die innermost = scopes[0];
    free(scopes);
    int n = DW(dwarf_getscopes_die)(&innermost, &chain);
    Dwarf_Files *files = NULL;
    DW(dwarf_getsrcfiles)(cu, &files, NULL);
    for (int i = 0; i < n && e->nframes < MAX_INLINED; i++) {
        int tag = DW(dwarf_tag)(&chain[i]);
        if (tag == DW_TAG_subprogram) {
            name_from_die(s, e, e->nframes - 1, &chain[i]);
            break;
        }
        if (tag != DW_TAG_inlined_subroutine)
            continue;
        name_from_die(s, e, e->nframes - 1, &chain[i]);
        Dwarf_Attribute attr;
        Dwarf_Word file = 0, line = 0;
        tl_frame *caller = &e->frames[e->nframes++];
        *caller = e->frames[e->nframes - 2]; /* same module and offset */
        caller->function = "??";
        caller->file = NULL;
        caller->line = 0;
        if (files &&
            DW(dwarf_formudata)(DW(dwarf_attr)(&chain[i], DW_AT_call_file, &attr), &file) == 0 &&
            DW(dwarf_formudata)(DW(dwarf_attr)(&chain[i], DW_AT_call_line, &attr), &line) == 0) {
            caller->file = DW(dwarf_filesrc)(files, file, NULL, NULL);
            caller->line = (unsigned)line;
        }
    }
    free(chain);
}

/* The C and C++ runtimes: their frames are named from their ELF symbols only. Their own files and
   lines tell a reader nothing (./nptl/pthread_create.c:442), and their DWARF is costly: libdw
   inflates every compressed debug section of a module when it first reads its DWARF, ~100 ms for
   libc's separate debug file, which was most of a first report's time. */
static bool runtime_module(const char *path)
{
    static const char *const runtimes[] = {"libc.so.",     "ld-linux", "libstdc++.so.",
                                           "libgcc_s.so.", "libm.so.", "libpthread.so."};
    const char *base = path ? strrchr(path, '/') : NULL;
    base = base ? base + 1 : path;
    for (size_t i = 0; base && i < TL_LENGTH(runtimes); i++)
        if (strncmp(base, runtimes[i], strlen(runtimes[i])) == 0)
            return true;
    return false;
}

/* Whether pc is in one of m's loaded segments. libdwfl counts the anonymous mapping after a
   module's last segment as its .bss, and code a JIT put there is not the module's. From the program
   headers: the sections would need the module's DWARF opened (libc's costs 100 ms). */
static bool in_a_segment(Dwfl_Module *m, Dwarf_Addr pc)
{
    Dwarf_Addr bias;
    Elf *elf = DW(dwfl_module_getelf)(m, &bias);
    size_t n;
    if (!elf || DW(elf_getphdrnum)(elf, &n) != 0)
        return true; /* no way to tell: the module's, as libdwfl says */
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr phdr;
        if (DW(gelf_getphdr)(elf, (int)i, &phdr) && phdr.p_type == PT_LOAD &&
            pc - bias - phdr.p_vaddr < phdr.p_memsz)
            return true;
    }
    return false;
}

static void resolve(tl_symbolizer *s, sym_entry *e)
{
    /* A return address points after the call: look up the call instruction itself. */
    Dwarf_Addr pc = e->pc - 1, bias = 0;
    tl_frame *f = &e->frames[0];
    e->nframes = 1;
    f->function = "??";
    f->offset = pc;
    uintptr_t jit_offset;
    const char *jit = tl_perfmap_find(s->jit, pc, &jit_offset);
    Dwfl_Module *m = s->dwfl && !jit ? DW(dwfl_addrmodule)(s->dwfl, pc) : NULL;
    if (m && !in_a_segment(m, pc))
        m = NULL;
    if (!m) {
        e->outside = true;
        if (jit) {
            f->module = tl_perfmap_path(s->jit);
            f->offset = jit_offset;
            f->function = jit;
        }
        return;
    }
    f->module = DW(dwfl_module_info)(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (DW(dwfl_module_getelf)(m, &bias))
        f->offset = pc - bias;
    if (!runtime_module(f->module)) {
        Dwfl_Line *line = DW(dwfl_module_getsrc)(m, pc);
        int lineno = 0;
        const char *file = line ? DW(dwfl_lineinfo)(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
        if (file && lineno > 0) {
            f->file = file;
            f->line = (unsigned)lineno;
        }
        expand_inlined(s, e, m, pc);
    }
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

void tl_symbolizer_prepare(uintptr_t address)
{
    unsigned n;
    tl_symbolizer *s = tl_symbolizer_new();
    if (s)
        tl_symbolize(s, address + 1, &n); /* looked up as a return address: at the one before */
    tl_symbolizer_free(s);
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
