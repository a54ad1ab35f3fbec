/* Reads FILE in 4 KiB blocks with read(2), from the page cache: prints the seconds it took. */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char buf[4096];
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0)
        return 1;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    while (read(fd, buf, sizeof buf) > 0)
        ;
    clock_gettime(CLOCK_MONOTONIC, &b);
    close(fd);
    printf("%.6f\n", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
