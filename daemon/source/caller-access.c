#include "source/caller-access.h"

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

int caller_creds_from_peer(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, CallerCreds **ret) {
        _cleanup_caller_creds_ CallerCreds *c = NULL;
        int r = caller_creds_from_uid(uid, &c);
        if (r < 0)
                return r;
        c->gid = gid;
        if (n_groups > 0) {
                gid_t *g = malloc(n_groups * sizeof(gid_t));
                if (!g)
                        return -ENOMEM;
                memcpy(g, groups, n_groups * sizeof(gid_t));
                free(c->groups);
                c->groups = g;
                c->n_groups = n_groups;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

/* The bus daemon's own record of the connection: the uid and groups the
 * kernel gave it at connect time (SO_PEERCRED, SO_PEERGROUPS), not what
 * /proc says of a pid that may have been reused since. */
static int read_credentials(sd_bus_message *reply, CallerCreds *c, bool *ret_have_uid) {
        int r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key;
                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        return r;
                if (streq_ptr(key, "UnixUserID")) {
                        uint32_t uid;
                        r = sd_bus_message_read(reply, "v", "u", &uid);
                        if (r < 0)
                                return r;
                        c->uid = (uid_t) uid;
                        *ret_have_uid = true;
                } else if (streq_ptr(key, "UnixGroupIDs")) {
                        const void *gids;
                        size_t size;
                        r = sd_bus_message_enter_container(reply, 'v', "au");
                        if (r >= 0)
                                r = sd_bus_message_read_array(reply, 'u', &gids, &size);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                        if (r < 0)
                                return r;
                        gid_t *g = size ? malloc(size) : NULL;
                        if (size && !g)
                                return -ENOMEM;
                        for (size_t i = 0; i < size / sizeof(uint32_t); i++)
                                g[i] = (gid_t) ((const uint32_t *) gids)[i];
                        free(c->groups);
                        c->groups = g;
                        c->n_groups = size / sizeof(uint32_t);
                } else {
                        r = sd_bus_message_skip(reply, "v");
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        return r < 0 ? r : sd_bus_message_exit_container(reply);
}

int caller_creds_from_message(sd_bus_message *msg, CallerCreds **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_caller_creds_ CallerCreds *bus = calloc(1, sizeof(*bus)), *c = NULL;
        const char *sender = sd_bus_message_get_sender(msg);
        bool have_uid = false;

        if (!bus)
                return -ENOMEM;
        if (!sender)
                return -ENODATA;
        int r = sd_bus_call_method(sd_bus_message_get_bus(msg), "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", "GetConnectionCredentials", NULL, &reply, "s", sender);
        if (r >= 0)
                r = read_credentials(reply, bus, &have_uid);
        if (r < 0)
                return r;
        if (!have_uid)
                return -ENODATA;
        /* The primary gid from the user database; the groups from the bus
         * when it knows them (dbus-daemon 1.12 and later), else from the
         * user database too. */
        r = caller_creds_from_uid(bus->uid, &c);
        if (r < 0)
                return r;
        if (bus->groups) {
                free(c->groups);
                c->groups = TAKE_PTR(bus->groups);
                c->n_groups = bus->n_groups;
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
