/* virt-diffd: the daemon. Parses options and runs the manager's loop, with
 * varlink beside D-Bus on the same loop and job table. */
#include <getopt.h>
#include <systemd/sd-daemon.h>

#include "bus/manager.h"
#include "common/log.h"
#include "varlink/varlink-daemon.h"
#include "worker/direct-worker.h"
#include "worker/protocol.h"
#include "worker/worker.h"

static void help(void) {
        printf("Usage: virt-diffd [OPTIONS]\n\n"
               "Compares virtual machine disk images on behalf of D-Bus and varlink clients.\n\n"
               "  -h, --help              Show this help\n"
               "  -V, --version           Show the version\n"
               "      --session           Serve on the session bus (default)\n"
               "      --system            Serve on the system bus\n"
               "      --peer-fd=FD        Serve one client over an inherited socket\n"
               "      --varlink[=PATH]    Serve varlink too, at PATH (default: with --system\n"
               "                          /run/virt-diffd/io.virtdiff.VirtDiff1, else\n"
               "                          $XDG_RUNTIME_DIR/virt-diffd/io.virtdiff.VirtDiff1); sockets\n"
               "                          passed by socket activation are always served\n"
               "      --idle-timeout=SEC  Exit after SEC seconds without jobs (0: never; default 120)\n"
               "      --max-running=N     Run at most N jobs at once (default: from the cores\n"
               "                          and the memory, two appliances a job)\n"
               "      --max-queue=N       Queue at most N jobs beyond those (default 64)\n"
               "      --max-jobs-per-caller=N\n"
               "                          Let one caller have at most N jobs queued or running\n"
               "                          (default 8)\n"
               "      --pool-size=N       Keep at most N launched appliances (default 4; 0: none)\n"
               "      --pool-memory=SIZE  Keep appliances of at most SIZE memory in all (default 8G)\n"
               "      --pool-idle=SEC     Close an appliance unused for SEC seconds (default 300)\n"
               "      --cache=PATH        The manifest cache database (default: in the user's\n"
               "                          cache directory, or /var/cache/virt-diffd with --system)\n"
               "      --cache-budget=SIZE Evict least recently used manifests beyond SIZE bytes\n"
               "                          (K, M, G suffixes; default 1G)\n"
               "      --no-cache          Keep no manifests\n"
               "      --no-direct         Scan every side in an appliance, never with the direct\n"
               "                          engine (guest filesystems read on the host)\n"
               "  -v, --verbose           Log debugging information\n"
               "  -x, --trace             Log libguestfs calls and the appliance's messages\n");
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *ret) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end || v > max || s[0] == '-')
                return -EINVAL;
        *ret = v;
        return 0;
}

/* "512M", "2G", "1048576". */
static int parse_size(const char *s, uint64_t *ret) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || s[0] == '-')
                return -EINVAL;
        unsigned shift = 0;
        if (*end == 'K' || *end == 'k')
                shift = 10;
        else if (*end == 'M' || *end == 'm')
                shift = 20;
        else if (*end == 'G' || *end == 'g')
                shift = 30;
        else if (*end)
                return -EINVAL;
        if (shift && end[1])
                return -EINVAL;
        if (v > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret = (uint64_t) v << shift;
        return 0;
}

static bool varlink_busy(void *userdata) {
        return varlink_daemon_busy(userdata);
}

static void varlink_busy_changed(void *userdata) {
        manager_update_idle(userdata);
}

/* Varlink on the manager's loop and job table: at path (or the default
 * one) when asked for, and on the sockets socket activation passed. */
static int serve_varlink(Manager *m, const char *path, bool want_path, VarlinkDaemon **ret) {
        bool system = m->mode == BUS_MODE_SYSTEM;
        const VarlinkDaemonOptions o = {
                .event = m->event,
                .jobs = m->jobs,
                .pool = m->pool,
                .store = m->store,
                .system = system,
                .busy_changed = varlink_busy_changed,
                .userdata = m,
        };
        VarlinkDaemon *vd = NULL;
        int r = varlink_daemon_new(&o, &vd);
        if (r < 0) {
                log_error("Cannot set up varlink: %s", strerror(-r));
                return r;
        }
        *ret = vd;
        m->frontend_busy = varlink_busy;
        m->frontend_userdata = vd;
        r = varlink_daemon_listen_inherited(vd);
        if (r < 0) {
                log_error("Cannot take the sockets of socket activation: %s", strerror(-r));
                return r;
        }
        if (want_path) {
                _cleanup_free_ char *def = NULL;
                if (!path) {
                        const char *run = system ? "/run" : getenv("XDG_RUNTIME_DIR");
                        if (!run || run[0] != '/') {
                                log_error("No runtime directory ($XDG_RUNTIME_DIR) for the varlink socket: "
                                          "name one with --varlink=PATH");
                                return -EINVAL;
                        }
                        if (asprintf(&def, "%s/virt-diffd/io.virtdiff.VirtDiff1", run) < 0)
                                return -ENOMEM;
                        path = def;
                }
                r = varlink_daemon_listen_path(vd, path);
                if (r < 0) {
                        log_error("Cannot listen on %s: %s", path, strerror(-r));
                        return r;
                }
                log_debug("Serving varlink on %s.", path);
        }
        manager_update_idle(m);
        return 0;
}

int main(int argc, char *argv[]) {
        /* An appliance's worker process (worker.h), started by the daemon
         * itself; not for people. */
        if (argc == 3 && strcmp(argv[1], "--worker") == 0)
                return worker_main(WORKER_FD, argv[2]);
        /* The direct engine's worker (direct-worker.h), locked down before
         * it reads a byte of a guest. */
        if (argc == 2 && strcmp(argv[1], "--direct-worker") == 0)
                return direct_worker_main(WORKER_FD);

        enum { ARG_SESSION = 0x100, ARG_SYSTEM, ARG_PEER_FD, ARG_IDLE, ARG_MAX_RUNNING, ARG_MAX_QUEUE, ARG_MAX_PER_CALLER, ARG_POOL_SIZE, ARG_POOL_MEMORY, ARG_POOL_IDLE, ARG_CACHE, ARG_CACHE_BUDGET,
               ARG_NO_CACHE, ARG_VARLINK, ARG_NO_DIRECT };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {"verbose", no_argument, NULL, 'v'},
                {"trace", no_argument, NULL, 'x'},
                {"session", no_argument, NULL, ARG_SESSION},
                {"system", no_argument, NULL, ARG_SYSTEM},
                {"peer-fd", required_argument, NULL, ARG_PEER_FD},
                {"idle-timeout", required_argument, NULL, ARG_IDLE},
                {"max-running", required_argument, NULL, ARG_MAX_RUNNING},
                {"max-queue", required_argument, NULL, ARG_MAX_QUEUE},
                {"max-jobs-per-caller", required_argument, NULL, ARG_MAX_PER_CALLER},
                {"pool-size", required_argument, NULL, ARG_POOL_SIZE},
                {"pool-memory", required_argument, NULL, ARG_POOL_MEMORY},
                {"pool-idle", required_argument, NULL, ARG_POOL_IDLE},
                {"cache", required_argument, NULL, ARG_CACHE},
                {"cache-budget", required_argument, NULL, ARG_CACHE_BUDGET},
                {"no-cache", no_argument, NULL, ARG_NO_CACHE},
                {"varlink", optional_argument, NULL, ARG_VARLINK},
                {"no-direct", no_argument, NULL, ARG_NO_DIRECT},
                {},
        };
        /* Freed after the manager: the job table tells it of its jobs' end. */
        _cleanup_(varlink_daemon_freep) VarlinkDaemon *vd = NULL;
        const char *varlink_path = NULL;
        bool want_varlink = false;
        Manager *m = NULL;
        int r = manager_new(&m);
        if (r < 0) {
                fprintf(stderr, "virt-diffd: cannot set up the event loop: %s\n", strerror(-r));
                return 1;
        }
        _cleanup_(manager_freep) Manager *owned = m;

        int c;
        unsigned long long v;
        while ((c = getopt_long(argc, argv, "hVvx", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("virt-diffd %s\n", VIRT_DIFFD_VERSION);
                        return 0;
                case 'v':
                        log_set_verbose(true);
                        break;
                case 'x':
                        log_set_trace(true);
                        break;
                case ARG_SESSION:
                        m->mode = BUS_MODE_SESSION;
                        break;
                case ARG_SYSTEM:
                        m->mode = BUS_MODE_SYSTEM;
                        break;
                case ARG_PEER_FD:
                        if (parse_uint(optarg, INT32_MAX, &v) < 0 || v < 3) {
                                fprintf(stderr, "virt-diffd: invalid --peer-fd '%s'\n", optarg);
                                return 2;
                        }
                        m->mode = BUS_MODE_PEER;
                        m->peer_fd = (int) v;
                        break;
                case ARG_IDLE:
                        if (parse_uint(optarg, UINT32_MAX, &v) < 0) {
                                fprintf(stderr, "virt-diffd: invalid --idle-timeout '%s'\n", optarg);
                                return 2;
                        }
                        m->idle_timeout_usec = v * 1000000ULL;
                        break;
                case ARG_MAX_RUNNING:
                        if (parse_uint(optarg, 1000, &v) < 0 || v == 0) {
                                fprintf(stderr, "virt-diffd: invalid --max-running '%s'\n", optarg);
                                return 2;
                        }
                        m->limits.max_running = (unsigned) v;
                        break;
                case ARG_MAX_QUEUE:
                        if (parse_uint(optarg, 100000, &v) < 0) {
                                fprintf(stderr, "virt-diffd: invalid --max-queue '%s'\n", optarg);
                                return 2;
                        }
                        m->limits.max_queue = (unsigned) v;
                        break;
                case ARG_MAX_PER_CALLER:
                        if (parse_uint(optarg, 100000, &v) < 0 || v == 0) {
                                fprintf(stderr, "virt-diffd: invalid --max-jobs-per-caller '%s'\n", optarg);
                                return 2;
                        }
                        m->limits.max_jobs_per_caller = (unsigned) v;
                        break;
                case ARG_POOL_SIZE:
                        if (parse_uint(optarg, 1000, &v) < 0) {
                                fprintf(stderr, "virt-diffd: invalid --pool-size '%s'\n", optarg);
                                return 2;
                        }
                        m->pool_limits.max_handles = (unsigned) v;
                        break;
                case ARG_POOL_MEMORY:
                        if (parse_size(optarg, &m->pool_limits.max_memory) < 0) {
                                fprintf(stderr, "virt-diffd: invalid --pool-memory '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case ARG_POOL_IDLE:
                        if (parse_uint(optarg, UINT32_MAX, &v) < 0 || v == 0) {
                                fprintf(stderr, "virt-diffd: invalid --pool-idle '%s'\n", optarg);
                                return 2;
                        }
                        m->pool_limits.idle_usec = v * 1000000ULL;
                        break;
                case ARG_CACHE:
                        free(m->store_path);
                        m->store_path = strdup(optarg);
                        if (!m->store_path)
                                return 1;
                        break;
                case ARG_CACHE_BUDGET:
                        if (parse_size(optarg, &m->cache_budget) < 0) {
                                fprintf(stderr, "virt-diffd: invalid --cache-budget '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case ARG_NO_CACHE:
                        m->no_cache = true;
                        break;
                case ARG_NO_DIRECT:
                        m->no_direct = true;
                        break;
                case ARG_VARLINK:
                        if (optarg && optarg[0] != '/') {
                                fprintf(stderr, "virt-diffd: --varlink takes an absolute path, not '%s'\n", optarg);
                                return 2;
                        }
                        want_varlink = true;
                        varlink_path = optarg;
                        break;
                default:
                        fprintf(stderr, "virt-diffd: try --help\n");
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "virt-diffd: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }

        if (m->mode == BUS_MODE_PEER && want_varlink) {
                fprintf(stderr, "virt-diffd: --varlink serves many clients, --peer-fd one: not both\n");
                return 2;
        }
        if (m->mode == BUS_MODE_PEER)
                log_set_quiet(true);
        /* Sockets from socket activation are served whatever the options. */
        bool activated = m->mode != BUS_MODE_PEER && sd_listen_fds(0) > 0;
        m->bus_optional = want_varlink || activated;
        r = manager_connect(m);
        if (r < 0) {
                log_error("Cannot connect to the %s: %s",
                          m->mode == BUS_MODE_PEER     ? "peer socket"
                          : m->mode == BUS_MODE_SYSTEM ? "system bus"
                                                       : "session bus",
                          strerror(-r));
                return 1;
        }
        if (want_varlink || activated) {
                r = serve_varlink(m, varlink_path, want_varlink, &vd);
                if (r < 0)
                        return 1;
        }
        r = manager_run(m);
        if (r < 0) {
                log_error("Event loop failed: %s", strerror(-r));
                return 1;
        }
        return r;
}
