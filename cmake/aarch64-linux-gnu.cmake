# Cross-compiling for aarch64 Linux with Debian's cross compilers (gcc-aarch64-linux-gnu,
# g++-aarch64-linux-gnu) and the arm64 libraries of a multiarch system (dpkg --add-architecture
# arm64; libunwind-dev:arm64, libdw-dev:arm64, zlib1g-dev:arm64). Programs built here run
# through qemu-user, with the arm64 libraries under / (qemu-aarch64 -L /).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /)

# The arm64 .pc files only: without this, pkg-config would hand out the host's libraries.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# Headers and libraries are the arm64 ones of the multiarch directories (the compiler searches
# them itself); programs such as python3 and pkg-config are the host's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
