/* Libraries threadleak loads for its own use (libunwind, libdw and what they pull in). The modules
   that came in with them hold the library's data, not the program's: the reachability scan takes
   no root from them. */
#ifndef TL_CORE_LIBS_H
#define TL_CORE_LIBS_H

#include "tl.h"

/* dlopen(name, RTLD_NOW | RTLD_LOCAL), noting the modules it brought in. */
void *tl_libs_open(const char *name);
/* Whether the module loaded at base (dl_phdr_info's dlpi_addr) came in with one of ours. */
bool tl_libs_own(uintptr_t base);

#endif
