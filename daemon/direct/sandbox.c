#include "direct/sandbox.h"

#include <et/com_err.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif
/* AddressSanitizer reserves terabytes of address space up front: an
 * address space limit would fail its next mapping. */
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define LIMIT_ADDRESS_SPACE 0
#else
#define LIMIT_ADDRESS_SPACE 1
#endif

#define NOBODY 65534
#define MAX_FDS 128
#define MAX_ADDRESS_SPACE (8ULL << 30)
#define MAX_CPU_SECONDS 3600 /* SIGXCPU ends a worker a crafted image keeps busy */

/* Everything the direct engine does once the disks are open: read them,
 * keep its memory, answer the daemon, build a sparse mirror for libblkid
 * in an anonymous file. */
static const int allowed[] = {
        SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(pread64), SCMP_SYS(preadv), SCMP_SYS(write), SCMP_SYS(writev),
        SCMP_SYS(pwrite64), SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(fstat),
        SCMP_SYS(sendto), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(shutdown),
        SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(poll), SCMP_SYS(ppoll),
        SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect), SCMP_SYS(brk),
        SCMP_SYS(madvise), SCMP_SYS(memfd_create), SCMP_SYS(ftruncate), SCMP_SYS(fadvise64),
        SCMP_SYS(futex), SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
        SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
        SCMP_SYS(getegid), SCMP_SYS(getrandom), SCMP_SYS(sysinfo), SCMP_SYS(sched_yield),
        SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall),
        SCMP_SYS(exit), SCMP_SYS(exit_group),
};

static int install_filter(void) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        int r = ctx ? 0 : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(allowed); i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
        /* fstat() as glibc makes it: on an fd, never a path. */
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
                                     SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
        /* fcntl: flags and close-on-exec only. */
        static const int fcntl_cmds[] = {F_GETFL, F_SETFL, F_GETFD, F_SETFD};
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(fcntl_cmds); i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
                                     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t) fcntl_cmds[i]));
        /* A block device's size. */
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t) BLKGETSIZE64));
        if (r >= 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}

static void limit(int resource, rlim_t value) {
        struct rlimit rl = {value, value};
        (void) setrlimit(resource, &rl);
}

static int drop_to_nobody(void) {
        if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0)
                return -errno;
        /* Gone for good. */
        if (setresuid(0, 0, 0) == 0)
                return -EPERM;
        return 0;
}

/* What would read a file on first use reads it now. */
static void warm_up(void) {
        static const char *const digests[] = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512"};
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n;
        for (size_t i = 0; i < ELEMENTSOF(digests); i++) {
                const EVP_MD *d = EVP_get_digestbyname(digests[i]);
                if (d)
                        (void) EVP_Digest("", 0, md, &n, d, NULL);
        }
        initialize_ext2_error_table();
        (void) error_message(EXT2_ET_BAD_MAGIC);
}

int sandbox_enter(int keep_fd, Error *e) {
        int flags = 0;

        if (keep_fd > 3)
                (void) close_range(3, (unsigned) keep_fd - 1, 0);
        (void) close_range(keep_fd >= 3 ? (unsigned) keep_fd + 1 : 3, ~0U, 0);
        warm_up();

        limit(RLIMIT_CORE, 0);
        limit(RLIMIT_NOFILE, MAX_FDS);
        if (LIMIT_ADDRESS_SPACE)
                limit(RLIMIT_AS, MAX_ADDRESS_SPACE);
        limit(RLIMIT_CPU, MAX_CPU_SECONDS);
        if (prctl(PR_SET_DUMPABLE, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return error_set(e, ERR_INTERNAL, "cannot set no_new_privs: %m");

        int ns = CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS;
        if (geteuid() == 0) {
                if (unshare(ns) == 0)
                        flags |= SANDBOX_NET_NS;
                int r = drop_to_nobody();
                if (r < 0)
                        return error_set(e, ERR_INTERNAL, "cannot drop to uid %d: %s", NOBODY, strerror(-r));
                flags |= SANDBOX_DROPPED_UID;
        } else if (unshare(CLONE_NEWUSER | ns) == 0)
                flags |= SANDBOX_USER_NS | SANDBOX_NET_NS;
        else if (unshare(CLONE_NEWUSER) == 0)
                flags |= SANDBOX_USER_NS;
        /* No new processes: the filter forbids them too. */
        limit(RLIMIT_NPROC, 0);

        int r = install_filter();
        if (r < 0)
                return error_set(e, ERR_INTERNAL, "cannot install the seccomp filter: %s", strerror(-r));
        return flags | SANDBOX_SECCOMP;
}

const char *sandbox_describe(int flags, char *buf, size_t size) {
        snprintf(buf, size, "%s%s%s%s", flags & SANDBOX_USER_NS ? "user namespace, " : "",
                 flags & SANDBOX_NET_NS ? "network/IPC/UTS/mount namespaces, " : "",
                 flags & SANDBOX_DROPPED_UID ? "uid nobody, " : "", flags & SANDBOX_SECCOMP ? "seccomp" : "none");
        return buf;
}
