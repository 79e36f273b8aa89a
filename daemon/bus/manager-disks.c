#include "bus/manager-disks.h"

#include <fcntl.h>
#include <pthread.h>

#include "bus/manager-limits.h"
#include "bus/manager.h"
#include "bus/polkit.h"
#include "job/job-input.h"
#include "source/disk-fd.h"
#include "source/domain.h"

#define invalid(err, ...) sd_bus_error_setf(err, VD_ERROR_PREFIX "InvalidArgs", __VA_ARGS__)

/* A disk the caller opened: only "fd", "format" and "blocksize". */
static int parse_fd_disk(Job *j, int side, int fd, bool other_keys, const char *format, sd_bus_error *err) {
        Error e = {0};
        if (other_keys)
                return invalid(err, "a disk given by 'fd' takes only a 'format' and a 'blocksize' besides");
        if (job_input_check_room(j, side, &e) < 0)
                return manager_set_error(err, &e, -1);
        if (disk_fd_check(fd, &e) < 0)
                return sd_bus_error_setf(err, e.code == ERR_INVALID_ARGS ? VD_ERROR_PREFIX "InvalidArgs"
                                                                         : VD_ERROR_PREFIX "InvalidImage",
                                         "%s", e.message);
        /* The path is set from the daemon's own copy of the fd. */
        int r = job_add_disk(j, side, "", format);
        if (r < 0)
                return r;
        return disk_set_fd(&j->sides[side].disks[j->sides[side].n_disks - 1], fd);
}

/* A side given as an exported manifest the caller opened: "manifest" alone,
 * the only element of its side; read when the job validates. */
static int parse_manifest_disk(Job *j, int side, int fd, bool other_keys, sd_bus_error *err) {
        if (other_keys)
                return invalid(err, "a disk given by 'manifest' takes no other key");
        if (j->sides[side].n_disks > 0 || j->sides[side].from_manifest)
                return invalid(err, "side %c is either disks or one manifest", side ? 'B' : 'A');
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0)
                return -errno;
        return job_set_manifest(j, side, copy);
}

int manager_parse_disk(sd_bus_message *msg, Job *j, int side, sd_bus_error *err) {
        static const char *const keys[] = {"path", "format", "domain", "uri", "snapshot"};
        const char *values[ELEMENTSOF(keys)] = {};
        uint32_t blocksize = 0;
        int fd = -1, manifest_fd = -1;
        int r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const char *key;
                size_t i = 0;
                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                if (strcmp(key, "fd") == 0 || strcmp(key, "manifest") == 0) {
                        bool m = key[0] == 'm';
                        r = sd_bus_message_read(msg, "v", "h", m ? &manifest_fd : &fd);
                        if (r < 0)
                                return invalid(err, "disk option '%s' is not a file descriptor (type h)", key);
                        r = sd_bus_message_exit_container(msg);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (strcmp(key, "blocksize") == 0) {
                        r = sd_bus_message_read(msg, "v", "u", &blocksize);
                        if (r < 0)
                                return invalid(err, "disk option 'blocksize' has the wrong type (u)");
                        r = sd_bus_message_exit_container(msg);
                        if (r < 0)
                                return r;
                        continue;
                }
                while (i < ELEMENTSOF(keys) && strcmp(key, keys[i]) != 0)
                        i++;
                if (i == ELEMENTSOF(keys))
                        return invalid(err, "unknown disk option '%s'", key);
                r = sd_bus_message_read(msg, "v", "s", &values[i]);
                if (r < 0)
                        return invalid(err, "disk option '%s' has the wrong type", key);
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return r;

        const JobDiskSpec spec = {.path = values[0], .format = values[1], .domain = values[2], .uri = values[3],
                                  .snapshot = values[4], .blocksize = blocksize};
        Error e = {0};
        if (manifest_fd >= 0)
                return parse_manifest_disk(j, side, manifest_fd,
                                           fd >= 0 || spec.path || spec.format || spec.domain || spec.uri || spec.snapshot ||
                                                   blocksize,
                                           err);
        if (fd >= 0) {
                if (spec.domain && !spec.domain[0])
                        return invalid(err, "a disk's 'domain' is empty");
                if (spec.snapshot && !spec.snapshot[0])
                        return invalid(err, "a disk's 'snapshot' is empty");
                if (j->sides[side].from_manifest)
                        return invalid(err, "side %c is either disks or one manifest", side ? 'B' : 'A');
                if (job_input_check_blocksize(blocksize, &e) < 0)
                        return manager_set_error(err, &e, -1);
                r = parse_fd_disk(j, side, fd, spec.path || spec.domain || spec.uri || spec.snapshot, spec.format, err);
                if (r >= 0)
                        j->sides[side].disks[j->sides[side].n_disks - 1].blocksize = blocksize;
                return r;
        }
        r = job_input_add_disk(j, side, &spec, &e);
        return r < 0 ? manager_set_error(err, &e, r) : 0;
}

/* A libvirt URI may name a remote host that is slow to answer: the list
 * is read in a thread of its own and the reply sent from the main loop
 * once the thread says, through a pipe, that it is done. */
typedef struct SnapshotQuery {
        sd_bus_message *call;
        char *uri, *domain;
        LibvirtSnapshot *list;
        size_t n;
        Error error;
        int pipe[2];
        sd_event_source *source;
} SnapshotQuery;

static SnapshotQuery *query_free(SnapshotQuery *q) {
        if (!q)
                return NULL;
        sd_event_source_disable_unref(q->source);
        for (int i = 0; i < 2; i++)
                if (q->pipe[i] >= 0)
                        (void) close(q->pipe[i]);
        sd_bus_message_unref(q->call);
        libvirt_snapshots_free(q->list, q->n);
        free(q->uri);
        free(q->domain);
        free(q);
        return NULL;
}

static void *query_thread(void *userdata) {
        SnapshotQuery *q = userdata;
        (void) libvirt_list_snapshots(q->uri, q->domain, &q->list, &q->n, &q->error);
        (void) !write(q->pipe[1], "", 1);
        return NULL;
}

static int send_snapshots(SnapshotQuery *q) {
        if (q->error.code != ERR_OK)
                return manager_reply_error(q->call, &q->error);
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_message_new_method_return(q->call, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sxsssb)");
        for (size_t i = 0; r >= 0 && i < q->n; i++)
                r = sd_bus_message_append(reply, "(sxsssb)", q->list[i].name, q->list[i].creation_time,
                                          strempty(q->list[i].state), q->list[i].external ? "external" : "internal",
                                          strempty(q->list[i].parent), (int) q->list[i].current);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return sd_bus_reply_method_errnof(q->call, -r, "cannot send the snapshots: %m");
        return sd_bus_send(NULL, reply, NULL);
}

static int on_query_done(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata) {
        SnapshotQuery *q = userdata;
        (void) send_snapshots(q);
        query_free(q);
        return 0;
}

int method_list_snapshots(sd_bus_message *msg, void *userdata, sd_bus_error *err) {
        Manager *m = userdata;
        const char *uri, *domain;
        int r = sd_bus_message_read(msg, "ss", &uri, &domain);
        if (r < 0)
                return r;
        if (!domain[0])
                return invalid(err, "no domain given");
        /* As root, libvirt shows every domain's disks. */
        r = polkit_check(&m->polkit, msg, POLKIT_ACTION_COMPARE_PATH, NULL, m, method_list_snapshots, err);
        if (r <= 0)
                return r < 0 ? r : 1;

        SnapshotQuery *q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->pipe[0] = q->pipe[1] = -1;
        q->call = sd_bus_message_ref(msg);
        q->uri = strdup(uri);
        q->domain = strdup(domain);
        pthread_attr_t attr;
        pthread_t thread;
        r = q->uri && q->domain ? 0 : -ENOMEM;
        if (r >= 0 && pipe2(q->pipe, O_CLOEXEC) < 0)
                r = -errno;
        if (r >= 0)
                r = sd_event_add_io(m->event, &q->source, q->pipe[0], EPOLLIN, on_query_done, q);
        if (r >= 0 && (r = -pthread_attr_init(&attr)) >= 0) {
                (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                r = -pthread_create(&thread, &attr, query_thread, q);
                (void) pthread_attr_destroy(&attr);
        }
        if (r < 0) {
                query_free(q);
                return r;
        }
        return 1;
}
