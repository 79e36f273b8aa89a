#include "caller-access.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>

CallerCreds *caller_creds_free(CallerCreds *c) {
        if (!c)
                return NULL;
        free(c->groups);
        free(c);
        return NULL;
}

static int groups_from_passwd(CallerCreds *c) {
        struct passwd pw, *found = NULL;
        char buf[4096];
        int n = 64;

        if (getpwuid_r(c->uid, &pw, buf, sizeof buf, &found) != 0 || !found)
                return 0; /* no such user: its primary gid and nothing else */
        c->gid = pw.pw_gid;
        for (int tries = 0; tries < 4; tries++) {
                gid_t *g = reallocarray(c->groups, (size_t) n, sizeof(gid_t));
                if (!g)
                        return -ENOMEM;
                c->groups = g;
                if (getgrouplist(pw.pw_name, pw.pw_gid, g, &n) >= 0) {
                        c->n_groups = (size_t) n;
                        return 0;
                }
        }
        return -E2BIG;
}

int caller_creds_from_uid(uid_t uid, CallerCreds **ret) {
        _cleanup_caller_creds_ CallerCreds *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->uid = uid;
        c->gid = (gid_t) uid;
        int r = groups_from_passwd(c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

int caller_creds_from_message(sd_bus_message *msg, CallerCreds **ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *bc = NULL;
        _cleanup_caller_creds_ CallerCreds *c = NULL;
        const gid_t *gids = NULL;
        uid_t uid;
        gid_t gid;

        int r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_UID | SD_BUS_CREDS_GID | SD_BUS_CREDS_SUPPLEMENTARY_GIDS,
                                          &bc);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_uid(bc, &uid);
        if (r < 0)
                return r;
        r = caller_creds_from_uid(uid, &c);
        if (r < 0)
                return r;
        /* What the bus says wins over the user database. */
        if (sd_bus_creds_get_gid(bc, &gid) >= 0)
                c->gid = gid;
        r = sd_bus_creds_get_supplementary_gids(bc, &gids);
        if (r >= 0) {
                gid_t *g = r > 0 ? malloc((size_t) r * sizeof(gid_t)) : NULL;
                if (r > 0 && !g)
                        return -ENOMEM;
                if (r > 0)
                        memcpy(g, gids, (size_t) r * sizeof(gid_t));
                free(c->groups);
                c->groups = g;
                c->n_groups = (size_t) r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

static int open_check(const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        (void) close(fd);
        return 0;
}

int caller_may_read(const CallerCreds *c, const char *path) {
        if (!c || (c->uid == geteuid() && geteuid() != 0))
                return open_check(path);
        if (geteuid() != 0)
                return -EPERM;
        if (c->uid == 0)
                return open_check(path);

        /* Only async-signal-safe calls between fork() and _exit(): the
         * daemon has threads. */
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (setgroups(c->n_groups, c->groups) < 0 || setresgid(c->gid, c->gid, c->gid) < 0 ||
                    setresuid(c->uid, c->uid, c->uid) < 0)
                        _exit(255);
                int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                _exit(fd < 0 ? (errno > 0 && errno < 255 ? errno : EIO) : 0);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) == 255)
                return -EPERM; /* could not become the caller: refused */
        return -WEXITSTATUS(status);
}
