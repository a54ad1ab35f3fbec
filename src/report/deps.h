/* libdw and zlib, opened with RTLD_LOCAL at the first report, not linked: together with what they
   pull in (libelf, liblzma, libbz2) they cost every process ~1 ms at start, and only a report needs
   them. libelf's functions are found through libdw's handle, which has it as a dependency. Call
   them as DW(fn)(...) and Z(fn)(...), after tl_deps_load. */
#ifndef TL_REPORT_DEPS_H
#define TL_REPORT_DEPS_H

#include "tl.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <zlib.h>

// clang-format off
#define TL_DW_FUNCTIONS(X)                                                                         \
    X(dwarf_attr) X(dwarf_attr_integrate) X(dwarf_cfi_addrframe) X(dwarf_filesrc)                  \
    X(dwarf_formref_die) X(dwarf_formstring) X(dwarf_formudata) X(dwarf_frame_cfa)                 \
    X(dwarf_frame_info) X(dwarf_frame_register) X(dwarf_getscopes) X(dwarf_getscopes_die)          \
    X(dwarf_getsrcfiles) X(dwarf_tag) X(dwfl_addrmodule) X(dwfl_begin)                             \
    X(dwfl_build_id_find_debuginfo) X(dwfl_end) X(dwfl_errmsg) X(dwfl_lineinfo)                    \
    X(dwfl_linux_proc_find_elf) X(dwfl_linux_proc_maps_report) X(dwfl_module_addrdie)              \
    X(dwfl_module_addrinfo) X(dwfl_module_eh_cfi) X(dwfl_module_getelf) X(dwfl_module_getsrc)      \
    X(dwfl_module_info) X(dwfl_report_begin) X(dwfl_report_end) X(dwfl_standard_find_debuginfo)    \
    X(elf_getphdrnum) X(gelf_getphdr)
#define TL_Z_FUNCTIONS(X) X(deflateInit2_) X(deflate) X(deflateEnd)
// clang-format on

#define TL_DEPS_FIELD(fn) __typeof__(fn) *fn;
typedef struct tl_deps {
    TL_DW_FUNCTIONS(TL_DEPS_FIELD)
    TL_Z_FUNCTIONS(TL_DEPS_FIELD)
} tl_deps;
extern tl_deps tl_deps_fn;

/* Opens what is not open yet. false (with one warning the first time) when libdw is missing:
   reports then name no function. Not from a signal handler. */
bool tl_deps_load(void);
bool tl_deps_zlib(void); /* whether zlib could be opened */

#define DW(fn) (tl_deps_fn.fn)
#define Z(fn) (tl_deps_fn.fn)

#endif
