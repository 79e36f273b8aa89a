#include "common/run-dir.h"

#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>

#include "common/util.h"

#define PREFIX "virt-diffd."

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char *dir;
static int dir_errno;

static const char *parent_dir(const char *parent) {
        if (parent && *parent)
                return parent;
        const char *t = getenv("TMPDIR");
        return t && *t ? t : "/tmp";
}

static void make(void) {
        char boot[37];
        uint64_t ticks;
        if (boot_id(boot) < 0 || process_start_ticks(getpid(), &ticks) < 0) {
                dir_errno = EIO;
                return;
        }
        char *d;
        if (asprintf(&d, "%s/" PREFIX "%d.%" PRIu64 ".%.8s", parent_dir(NULL), (int) getpid(), ticks, boot) < 0) {
                dir_errno = ENOMEM;
                return;
        }
        if (mkdir(d, 0700) < 0 && errno != EEXIST) {
                dir_errno = errno;
                free(d);
                return;
        }
        dir = d;
}

const char *run_dir(void) {
        (void) pthread_once(&once, make);
        if (!dir)
                errno = dir_errno;
        return dir;
}

void run_dir_remove(void) {
        if (dir)
                rm_rf(dir);
}

/* Whether the daemon a directory's name stands for still runs. */
static bool owner_alive(const char *name, const char *boot) {
        int pid;
        uint64_t ticks, now;
        char b[9];
        if (sscanf(name, PREFIX "%d.%" SCNu64 ".%8s", &pid, &ticks, b) != 3)
                return true; /* not ours to judge */
        return strncmp(b, boot, 8) == 0 && pid > 0 && process_start_ticks(pid, &now) >= 0 && now == ticks;
}

unsigned run_dir_sweep(const char *parent) {
        char boot[37];
        unsigned n = 0;
        const char *p = parent_dir(parent);
        DIR *d = opendir(p);
        if (!d || boot_id(boot) < 0) {
                if (d)
                        closedir(d);
                return 0;
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (strncmp(de->d_name, PREFIX, strlen(PREFIX)) != 0 || owner_alive(de->d_name, boot))
                        continue;
                _cleanup_free_ char *path = path_join(p, de->d_name);
                struct stat st;
                /* Ours only: a directory, owned by whoever we are. */
                if (!path || lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
                        continue;
                rm_rf(path);
                n++;
        }
        closedir(d);
        return n;
}
