/* Whether the dynamic linker can preload the library into a program, decided before the exec,
   while the tool can still refuse: after it, a program the preload missed would run unchecked.
   The kernel's own view is followed: a "#!" script runs its interpreter (and execvp runs a file
   that is neither with /bin/sh); an ELF file with no PT_INTERP is static and loads nothing; an ELF
   for another machine, or one whose dynamic linker is missing, does not run with the library; and
   a set-user-ID or set-group-ID program, or one with file capabilities, runs in secure mode, where
   the dynamic linker ignores LD_PRELOAD paths. */
#include "cli/cli.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAX_DEPTH 4 /* "#!" interpreters in a row, as the kernel allows */

typedef struct elf_info {
    unsigned char class;
    uint16_t machine;
    bool dynamic;                   /* has PT_INTERP */
    char interpreter[PATH_MAX + 1]; /* its path */
} elf_info;

static const char *machine_name(unsigned char class, uint16_t machine, char *buf, size_t size)
{
    switch (machine) {
    case EM_X86_64: return class == ELFCLASS64 ? "x86-64" : "x32";
    case EM_386: return "i386";
    case EM_AARCH64: return "aarch64";
    case EM_ARM: return "arm";
    case EM_RISCV: return class == ELFCLASS64 ? "riscv64" : "riscv32";
    case EM_PPC64: return "ppc64";
    case EM_S390: return "s390x";
    }
    snprintf(buf, size, "ELF machine %u", machine);
    return buf;
}

/* The ELF header and program headers of fd: false when it is not a whole ELF file. Reads the
   64-bit layout and the 32-bit one alike. */
static bool read_elf(int fd, elf_info *info)
{
    union {
        Elf64_Ehdr e64;
        Elf32_Ehdr e32;
    } h;
    if (pread(fd, &h, sizeof h, 0) < (ssize_t)sizeof h.e32 ||
        memcmp(h.e64.e_ident, ELFMAG, SELFMAG) != 0)
        return false;
    bool wide = h.e64.e_ident[EI_CLASS] == ELFCLASS64;
    info->class = h.e64.e_ident[EI_CLASS];
    info->machine = wide ? h.e64.e_machine : h.e32.e_machine;
    info->dynamic = false;
    off_t phoff = wide ? (off_t)h.e64.e_phoff : (off_t)h.e32.e_phoff;
    unsigned phnum = wide ? h.e64.e_phnum : h.e32.e_phnum;
    for (unsigned i = 0; i < phnum && i < 256; i++) {
        Elf64_Phdr p64;
        Elf32_Phdr p32;
        off_t at = phoff + (off_t)i * (wide ? (off_t)sizeof p64 : (off_t)sizeof p32);
        uint32_t type;
        off_t offset;
        size_t size;
        if (wide ? pread(fd, &p64, sizeof p64, at) != (ssize_t)sizeof p64
                 : pread(fd, &p32, sizeof p32, at) != (ssize_t)sizeof p32)
            return false;
        type = wide ? p64.p_type : p32.p_type;
        offset = wide ? (off_t)p64.p_offset : (off_t)p32.p_offset;
        size = wide ? (size_t)p64.p_filesz : (size_t)p32.p_filesz;
        if (type != PT_INTERP)
            continue;
        if (size == 0 || size > PATH_MAX)
            return false;
        ssize_t n = pread(fd, info->interpreter, size, offset);
        if (n != (ssize_t)size)
            return false;
        info->interpreter[size] = 0;
        info->dynamic = true;
    }
    return true;
}

/* True when the program runs in secure mode (AT_SECURE) for this user. */
static bool secure(const char *path, const struct stat *st)
{
    return (st->st_mode & S_ISUID && st->st_uid != getuid()) ||
           (st->st_mode & S_ISGID && st->st_gid != getgid()) ||
           (getuid() != 0 && getxattr(path, "security.capability", NULL, 0) >= 0);
}

static bool check(const char *program, const char *path, const elf_info *lib, int depth, char *why,
                  size_t size)
{
    char a[32], b[32];
    struct stat st;
    elf_info elf;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, size, "%s %s %s (%s)", program, depth ? "needs" : "is", path,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    if (secure(path, &st)) {
        close(fd);
        snprintf(why, size,
                 "%s is set-user-ID, set-group-ID or has file capabilities: the dynamic linker "
                 "ignores LD_PRELOAD for it",
                 path);
        return false;
    }
    char head[PATH_MAX + 3] = "";
    ssize_t n = pread(fd, head, sizeof head - 1, 0);
    bool is_elf = read_elf(fd, &elf);
    close(fd);
    if (!is_elf) {
        /* A script: the interpreter on its "#!" line; anything else execvp gives to /bin/sh. */
        const char *interp = "/bin/sh";
        if (n > 2 && head[0] == '#' && head[1] == '!') {
            head[n] = 0;
            char *start = head + 2 + strspn(head + 2, " \t");
            start[strcspn(start, " \t\n")] = 0;
            interp = start;
        }
        if (depth == MAX_DEPTH || !*interp) {
            snprintf(why, size, "%s has no interpreter the kernel would run", program);
            return false;
        }
        char copy[PATH_MAX + 1];
        snprintf(copy, sizeof copy, "%s", interp);
        return check(program, copy, lib, depth + 1, why, size);
    }
    const char *what = depth ? path : program;
    if (elf.class != lib->class || elf.machine != lib->machine) {
        snprintf(why, size, "%s is a program for %s, and the library is for %s", what,
                 machine_name(elf.class, elf.machine, a, sizeof a),
                 machine_name(lib->class, lib->machine, b, sizeof b));
        return false;
    }
    if (!elf.dynamic) {
        snprintf(why, size,
                 "%s is statically linked: it loads no library, so none can be preloaded", what);
        return false;
    }
    if (access(elf.interpreter, X_OK) != 0) {
        snprintf(why, size, "%s needs the dynamic linker %s, which is missing (%s)", what,
                 elf.interpreter, strerror(errno));
        return false;
    }
    if (strstr(elf.interpreter, "ld-musl")) {
        snprintf(why, size, "%s is linked with musl (%s); the library is built for glibc", what,
                 elf.interpreter);
        return false;
    }
    return true;
}

bool tl_cli_preloadable(const char *program, const char *library, char *why, size_t size)
{
    elf_info lib;
    int fd = open(library, O_RDONLY | O_CLOEXEC);
    bool ok = fd >= 0 && read_elf(fd, &lib);
    if (fd >= 0)
        close(fd);
    if (!ok) {
        snprintf(why, size, "%s is not a shared library", library);
        return false;
    }
    return check(program, program, &lib, 0, why, size);
}
