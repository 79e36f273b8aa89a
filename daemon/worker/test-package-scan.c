/* Copying a guest's database directory out of a tar stream: only regular
 * files with plain names land, below the directory given, whatever the
 * archive holds (symbolic links, "..", absolute names, devices). */
#include <fcntl.h>
#include <sys/stat.h>

#include "common/test-util.h"
#include "worker/package-scan.h"

static char *slurp(const char *path, size_t *ret_len) {
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        char tmp[4096];
        size_t n;
        while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
                fwrite(tmp, 1, n, m);
        fclose(m);
        fclose(f);
        *ret_len = len;
        return buf;
}

static bool exists(const char *dir, const char *rel, mode_t type) {
        char *p;
        struct stat st;
        if (asprintf(&p, "%s/%s", dir, rel) < 0)
                return false;
        bool r = lstat(p, &st) == 0 && (st.st_mode & S_IFMT) == type;
        free(p);
        return r;
}

int main(void) {
        char src[] = "/var/tmp/vd-tar-src-XXXXXX", dst[] = "/var/tmp/vd-tar-dst-XXXXXX";
        must(mkdtemp(src));
        must(mkdtemp(dst));
        char *cmd;
        /* A database directory as tar_out makes it, plus hostile members:
         * a symlink to /etc then a file through it, "../" and absolute
         * names, a fifo. */
        must(asprintf(&cmd,
                      "cd %s && mkdir -p info outside && echo status > status && echo /usr > info/a.list && "
                      "echo x > outside/evil && ln -s /etc link && mkfifo fifo && "
                      "tar -cf plain.tar status info link fifo && "
                      "tar -cf evil.tar --transform 's,^outside,..,' outside/evil && "
                      "tar -cPf abs.tar %s/status",
                      src, src) >= 0
                     ? (void *) 1
                     : NULL);
        CHECK(system(cmd) == 0);
        free(cmd);

        int dfd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char *path;
        size_t len;
        char *tar;

        must(asprintf(&path, "%s/plain.tar", src) >= 0 ? (void *) 1 : NULL);
        tar = must(slurp(path, &len));
        CHECK(tar_extract_files(tar, len, dfd, "var/lib/dpkg", 1 << 20) == 0);
        CHECK(exists(dst, "var/lib/dpkg/status", S_IFREG));
        CHECK(exists(dst, "var/lib/dpkg/info/a.list", S_IFREG));
        CHECK(!exists(dst, "var/lib/dpkg/link", S_IFLNK) && !exists(dst, "var/lib/dpkg/fifo", S_IFIFO));
        /* The same names again: never overwritten. */
        CHECK(tar_extract_files(tar, len, dfd, "var/lib/dpkg", 1 << 20) == 0);
        /* Over the budget. */
        CHECK(tar_extract_files(tar, len, dfd, "again", 3) == -EFBIG);
        /* Not an archive. */
        CHECK(tar_extract_files("garbage garbage", 15, dfd, "x", 1 << 20) == -EBADMSG);
        free(tar);
        free(path);

        must(asprintf(&path, "%s/evil.tar", src) >= 0 ? (void *) 1 : NULL);
        tar = must(slurp(path, &len));
        CHECK(tar_extract_files(tar, len, dfd, "var/lib/rpm", 1 << 20) == 0);
        CHECK(!exists(dst, "var/lib/evil", S_IFREG) && !exists(dst, "var/lib/rpm/evil", S_IFREG));
        free(tar);
        free(path);

        must(asprintf(&path, "%s/abs.tar", src) >= 0 ? (void *) 1 : NULL);
        tar = must(slurp(path, &len));
        CHECK(tar_extract_files(tar, len, dfd, "abs", 1 << 20) == 0);
        CHECK(!exists(dst, "abs", S_IFDIR));
        free(tar);
        free(path);

        close(dfd);
        rm_rf(src);
        rm_rf(dst);
        return test_report();
}
