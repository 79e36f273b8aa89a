#include "appliance/kvm-probe.h"

#include <glob.h>
#include <pthread.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/subprocess.h"

#define PROBE_TIMEOUT_USEC (10ULL * 1000000ULL)

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static Accelerator probe_answer = ACCELERATOR_UNKNOWN;

const char *accelerator_to_string(Accelerator a) {
        switch (a) {
        case ACCELERATOR_KVM:
                return "kvm";
        case ACCELERATOR_TCG:
                return "tcg";
        default:
                return "";
        }
}

/* The newest kernel supermin would use; NULL when there is none. */
static char *find_kernel(void) {
        glob_t g;
        char *k = NULL;

        if (glob("/boot/vmlinuz-*", 0, NULL, &g) == 0 && g.gl_pathc > 0)
                k = strdup(g.gl_pathv[g.gl_pathc - 1]);
        globfree(&g);
        return k;
}

/* Boots the host kernel with no root under KVM with the CPU model libguestfs
 * uses: a working KVM reaches the kernel's panic in about a second, a broken
 * one aborts at once ("failed to set MSR") or hangs after the BIOS. */
static Accelerator probe(const char **why) {
        if (access("/dev/kvm", R_OK | W_OK) < 0) {
                *why = "/dev/kvm is not accessible";
                return ACCELERATOR_TCG;
        }
        _cleanup_free_ char *kernel = find_kernel();
        if (!kernel) {
                *why = "no kernel under /boot to probe with";
                return ACCELERATOR_TCG;
        }

        char *argv[] = {"qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "256",
                        "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio",
                        "-kernel", kernel, "-append", "console=ttyS0 panic=-1 loglevel=1", NULL};
        SpawnResult r = {0};
        if (spawn_capture(argv, PROBE_TIMEOUT_USEC, 1 << 20, &r) < 0) {
                *why = "qemu-system-x86_64 could not be started";
                return ACCELERATOR_TCG;
        }
        Accelerator a;
        if (r.timed_out) {
                *why = "qemu hung under KVM";
                a = ACCELERATOR_TCG;
        } else if (strstr(r.out, "Kernel panic") || strstr(r.out, "Linux version")) {
                *why = "a test boot under KVM succeeded";
                a = ACCELERATOR_KVM;
        } else {
                *why = "qemu failed under KVM";
                a = ACCELERATOR_TCG;
                if (r.err && r.err[0]) {
                        char *nl = strchr(r.err, '\n');
                        if (nl)
                                *nl = 0;
                        log_info("KVM probe: %s", r.err);
                }
        }
        spawn_result_done(&r);
        return a;
}

/* The answer holds until the host reboots or qemu changes: remembered on
 * disk so that every private daemon does not probe again (a hanging KVM
 * costs the whole time-out). */
static char *cache_path(void) {
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        char *p = NULL;
        if (xdg && xdg[0] == '/')
                p = path_join(xdg, "virt-diffd/accelerator");
        else if (home && home[0] == '/')
                p = path_join(home, ".cache/virt-diffd/accelerator");
        return p;
}

static char *cache_key(void) {
        char boot[37];
        struct stat st = {0};
        if (boot_id(boot) < 0)
                return NULL;
        (void) stat("/usr/bin/qemu-system-x86_64", &st);
        char *k = NULL;
        if (asprintf(&k, "%s %lld", boot, (long long) st.st_mtime) < 0)
                return NULL;
        return k;
}

static Accelerator cache_read(void) {
        _cleanup_free_ char *path = cache_path(), *key = cache_key();
        char line[256];
        if (!path || !key)
                return ACCELERATOR_UNKNOWN;
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f || !fgets(line, sizeof line, f))
                return ACCELERATOR_UNKNOWN;
        line[strcspn(line, "\n")] = 0;
        char *sp = strrchr(line, ' ');
        if (!sp || strncmp(line, key, (size_t) (sp - line)) != 0 || strlen(key) != (size_t) (sp - line))
                return ACCELERATOR_UNKNOWN;
        return strcmp(sp + 1, "kvm") == 0 ? ACCELERATOR_KVM
               : strcmp(sp + 1, "tcg") == 0 ? ACCELERATOR_TCG
                                            : ACCELERATOR_UNKNOWN;
}

static void cache_write(Accelerator a) {
        _cleanup_free_ char *path = cache_path(), *key = cache_key();
        if (!path || !key)
                return;
        char *slash = strrchr(path, '/');
        *slash = 0;
        char *parent = strrchr(path, '/');
        if (parent) {
                *parent = 0;
                (void) mkdir(path, 0700);
                *parent = '/';
        }
        (void) mkdir(path, 0700);
        *slash = '/';
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.%d", path, (int) getpid()) < 0)
                return;
        FILE *f = fopen(tmp, "we");
        if (!f)
                return;
        fprintf(f, "%s %s\n", key, accelerator_to_string(a));
        if (fclose(f) != 0 || rename(tmp, path) < 0)
                (void) unlink(tmp);
}

Accelerator kvm_probe_get(void) {
        pthread_mutex_lock(&probe_lock);
        if (probe_answer == ACCELERATOR_UNKNOWN) {
                const char *settings = getenv("LIBGUESTFS_BACKEND_SETTINGS");
                const char *why;

                if (settings && strstr(settings, "force_tcg")) {
                        probe_answer = ACCELERATOR_TCG;
                        why = "LIBGUESTFS_BACKEND_SETTINGS asks for it";
                } else if (settings && strstr(settings, "force_kvm")) {
                        probe_answer = ACCELERATOR_KVM;
                        why = "LIBGUESTFS_BACKEND_SETTINGS asks for it";
                } else if ((probe_answer = cache_read()) != ACCELERATOR_UNKNOWN)
                        why = "remembered from an earlier probe since boot";
                else {
                        probe_answer = probe(&why);
                        cache_write(probe_answer);
                }

                if (probe_answer == ACCELERATOR_KVM)
                        log_info("Using KVM hardware virtualisation (%s).", why);
                else
                        log_info("KVM is not usable (%s): falling back to TCG software emulation, "
                                 "appliances will be slower.",
                                 why);
        }
        Accelerator a = probe_answer;
        pthread_mutex_unlock(&probe_lock);
        return a;
}

Accelerator kvm_probe_peek(void) {
        pthread_mutex_lock(&probe_lock);
        Accelerator a = probe_answer;
        pthread_mutex_unlock(&probe_lock);
        return a;
}
