/* File system workloads for bench/vm_shared.py, run the same on the host and in the VM:
     fsbench write FILE MIB   sequential write in 1 MiB blocks, then fsync
     fsbench read FILE        sequential read in 1 MiB blocks
     fsbench meta DIR N       create N small files, stat each, delete each
   Prints "<phase> <seconds>" lines (monotonic clock). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    static char block[1 << 20];
    if (argc >= 4 && !strcmp(argv[1], "write")) {
        long mib = atol(argv[3]);
        memset(block, 'x', sizeof block);
        double t = now();
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) { perror("open"); return 1; }
        for (long i = 0; i < mib; i++)
            if (write(fd, block, sizeof block) != sizeof block) { perror("write"); return 1; }
        if (fsync(fd) || close(fd)) { perror("fsync"); return 1; }
        printf("write %.4f\n", now() - t);
    } else if (argc >= 3 && !strcmp(argv[1], "read")) {
        double t = now();
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) { perror("open"); return 1; }
        long total = 0;
        ssize_t n;
        while ((n = read(fd, block, sizeof block)) > 0) total += n;
        close(fd);
        printf("read %.4f %ld\n", now() - t, total);
    } else if (argc >= 4 && !strcmp(argv[1], "meta")) {
        long n = atol(argv[3]);
        char path[4096];
        struct stat st;
        double t = now();
        for (long i = 0; i < n; i++) {
            snprintf(path, sizeof path, "%s/f%06ld", argv[2], i);
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0 || write(fd, "module.exports = 1;\n", 20) != 20 || close(fd)) { perror(path); return 1; }
        }
        double t1 = now();
        for (long i = 0; i < n; i++) {
            snprintf(path, sizeof path, "%s/f%06ld", argv[2], i);
            if (stat(path, &st)) { perror(path); return 1; }
        }
        double t2 = now();
        for (long i = 0; i < n; i++) {
            snprintf(path, sizeof path, "%s/f%06ld", argv[2], i);
            if (unlink(path)) { perror(path); return 1; }
        }
        double t3 = now();
        printf("create %.4f\nstat %.4f\ndelete %.4f\nmeta %.4f\n", t1 - t, t2 - t1, t3 - t2, t3 - t);
    } else {
        fprintf(stderr, "usage: fsbench write FILE MIB | read FILE | meta DIR N\n");
        return 2;
    }
    return 0;
}
