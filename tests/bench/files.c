/* What a file-heavy program pays: opens, reads to the end and closes every file of DIR (the way
   ripgrep or tar read a tree), ROUNDS times; prints the seconds it took.
   Usage: bench-files DIR [ROUNDS] (DIR made with `bench-files --make DIR N`: N small files). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char path[4096], buf[4096];
    if (argc == 4 && strcmp(argv[1], "--make") == 0) {
        for (int i = 0, n = atoi(argv[3]); i < n; i++) {
            snprintf(path, sizeof path, "%s/%d.txt", argv[2], i);
            FILE *f = fopen(path, "w");
            if (!f)
                return 1;
            for (int line = 0; line < 20; line++)
                fprintf(f, "line %d of file %d, some words to read\n", line, i);
            fclose(f);
        }
        return 0;
    }
    if (argc < 2)
        return fprintf(stderr, "usage: %s DIR [ROUNDS] | --make DIR N\n", argv[0]), 2;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int r = 0; r < rounds; r++) {
        DIR *dir = opendir(argv[1]);
        for (struct dirent *e; dir && (e = readdir(dir));) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            while (fd >= 0 && read(fd, buf, sizeof buf) > 0)
                ;
            close(fd);
        }
        if (dir)
            closedir(dir);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.6f\n", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
