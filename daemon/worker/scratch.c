#include "worker/scratch.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

int scratch_open(ScratchFile *f, const char *dir) {
        f->fd = dir ? open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600) : -1;
        if (f->fd < 0)
                f->fd = memfd_create("virt-diffd-out", MFD_CLOEXEC);
        if (f->fd < 0)
                return -errno;
        snprintf(f->path, sizeof f->path, "/dev/fd/%d", f->fd);
        return 0;
}

int scratch_map(const ScratchFile *f, void **ret, size_t *ret_len) {
        struct stat st;
        if (fstat(f->fd, &st) < 0)
                return -errno;
        *ret_len = (size_t) st.st_size;
        *ret = NULL;
        if (st.st_size == 0)
                return 0;
        void *p = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, f->fd, 0);
        if (p == MAP_FAILED)
                return -errno;
        *ret = p;
        return 0;
}
