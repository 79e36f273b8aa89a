/* The daemon's own temporary directory: made once under $TMPDIR, removed
 * by its daemon; those of daemons that are gone removed by the next one,
 * those of daemons that run left alone. */
#include <sys/stat.h>

#include "common/run-dir.h"
#include "common/test-util.h"
#include "common/util.h"

static bool exists(const char *path) {
        struct stat st;
        return stat(path, &st) == 0;
}

static char *make(const char *parent, const char *name) {
        char *p = path_join(parent, name);
        if (!p || mkdir(p, 0700) < 0)
                exit(1);
        _cleanup_free_ char *inside = path_join(p, "nbd.sock");
        FILE *f = inside ? fopen(inside, "w") : NULL;
        if (f)
                fclose(f);
        return p;
}

int main(void) {
        char tmpl[] = "/tmp/test-run-dir.XXXXXX";
        char *tmp = mkdtemp(tmpl), boot[37], name[128];
        uint64_t ticks;
        if (!tmp || setenv("TMPDIR", tmp, 1) < 0 || boot_id(boot) < 0 || process_start_ticks(getpid(), &ticks) < 0)
                return EXIT_FAILURE;

        const char *mine = run_dir();
        CHECK(mine && exists(mine) && strncmp(mine, tmp, strlen(tmp)) == 0);
        CHECK(run_dir() == mine);

        /* A pid that started at another time, another boot, a pid that does
         * not run: all gone. This process, and names not of our making: kept. */
        snprintf(name, sizeof name, "virt-diffd.%d.%" PRIu64 ".%.8s", (int) getpid(), ticks + 1, boot);
        _cleanup_free_ char *restarted = make(tmp, name);
        snprintf(name, sizeof name, "virt-diffd.%d.%" PRIu64 ".%.8s", (int) getpid(), ticks, "00000000");
        _cleanup_free_ char *other_boot = make(tmp, name);
        snprintf(name, sizeof name, "virt-diffd.%d.1.%.8s", INT32_MAX - 3, boot);
        _cleanup_free_ char *dead = make(tmp, name);
        _cleanup_free_ char *odd = make(tmp, "virt-diffd.not-a-daemon");
        _cleanup_free_ char *appliance = make(tmp, "virt-diffd-AbCdEf");

        CHECK(run_dir_sweep(NULL) == 3);
        CHECK(!exists(restarted) && !exists(other_boot) && !exists(dead));
        CHECK(exists(mine) && exists(odd) && exists(appliance));

        run_dir_remove();
        CHECK(!exists(mine));
        rm_rf(tmp);
        return test_report();
}
