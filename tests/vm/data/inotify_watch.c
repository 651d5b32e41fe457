/* A container-side inotify watcher for the VM tests (the busybox test image has no inotifyd):
   watch one folder, print "ready", then one line "<mask hex> <name>" per event, flushed. */
#include <stdio.h>
#include <sys/inotify.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int fd = inotify_init1(0);
    if (argc < 2 || fd < 0 || inotify_add_watch(fd, argv[1], IN_ALL_EVENTS) < 0) {
        perror("inotify");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) return 1;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)p;
            printf("%x %s\n", e->mask, e->len ? e->name : ".");
            p += sizeof(struct inotify_event) + e->len;
        }
        fflush(stdout);
    }
}
