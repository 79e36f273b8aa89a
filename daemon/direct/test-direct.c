/* The direct engine end to end on images mke2fs -d builds from a tree on
 * the host: every entry as the host's kernel shows the tree (kind, mode,
 * owner, size, mtime, links, symlink target, xattrs and ACLs, content
 * hash), in ext4, ext4 with inline data and ext2 with 128-byte inodes; an
 * inspected guest with /boot placed by LABEL=; content reads; and the
 * images it must refuse rather than read differently from the appliance. */
#include <ftw.h>
#include <openssl/evp.h>
#include <sys/xattr.h>

#include "direct/test-direct-util.h"
#include "direct/volumes.h"
#include "direct/walk.h"

#define T0 1700000000

static void build_tree(void) {
        CHECK(td_sh("mkdir -p tree/dir/sub tree/sticky && cd tree && "
                    "echo hello >file.txt && : >empty && printf tiny >tiny && "
                    "head -c 300000 /dev/urandom >big.bin && "
                    "truncate -s 5M sparse.bin && printf middle | dd of=sparse.bin bs=1 seek=3000000 conv=notrunc && "
                    "echo linked >h1 && ln h1 h2 && ln h1 dir/h3 && "
                    "ln -s file.txt fast && ln -s $(printf 'x%%.0s' $(seq 1 200)) slow && "
                    "mkfifo fifo && mknod chr c 1 7 && chmod 1777 sticky && chmod 4755 tiny && "
                    "echo owned >owned && chown 100000:200000 owned && "
                    "echo x >xattr.txt && setfattr -n user.note -v hello xattr.txt && "
                    "setfattr -n user.empty xattr.txt && setfattr -n trusted.t -v 1 xattr.txt && "
                    "echo acl >acl.txt && setfacl -m u:1234:rw,g:55:r acl.txt && setfacl -d -m u:7:rx dir && "
                    "echo deep >dir/sub/deep.txt && printf 'name with\\nnewline' >\"$(printf 'odd\\nname')\" && "
                    "cd .. && find tree -exec touch -h -d @%d {} +",
                    T0) == 0);
}

/* The SHA-256 of a host file's first max bytes. */
static void sha256_file(const char *path, uint64_t max, uint8_t out[32]) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned n = 0;
        char buf[65536];
        size_t k;
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        while (f && max > 0 && (k = fread(buf, 1, max < sizeof buf ? (size_t) max : sizeof buf, f)) > 0) {
                EVP_DigestUpdate(md, buf, k);
                max -= k;
        }
        EVP_DigestFinal_ex(md, out, &n);
        EVP_MD_CTX_free(md);
}

/* mke2fs 1.47.0 with inline_data cuts a sparse file after its last data
 * block (the appliance shows the same size): only the bytes it kept are
 * compared then. */
static bool short_sparse;
static const Manifest *checked;
static const char *checked_tree;
static size_t tree_root_len;
static unsigned n_compared;

static void check_xattrs(const char *host, const Entry *e) {
        char names[4096];
        ssize_t len = llistxattr(host, names, sizeof names);
        size_t n = 0;
        for (ssize_t i = 0; i < len; i += (ssize_t) strlen(names + i) + 1) {
                uint8_t value[4096];
                ssize_t vl = lgetxattr(host, names + i, value, sizeof value);
                const Xattr *x = td_xattr(e, names + i);
                CHECK(x && vl >= 0 && x->len == (size_t) vl && memcmp(x->value, value, (size_t) vl) == 0);
                if (!x)
                        fprintf(stderr, "  %s: no %s\n", e->path, names + i);
                n++;
        }
        CHECK(e->n_xattrs == n);
}

static int compare_one(const char *host, const struct stat *st, int type, struct FTW *ftw) {
        const char *rel = host + tree_root_len;
        if (!*rel)
                return 0; /* the root: mke2fs gives it times of its own */
        const Entry *e = td_entry(checked, checked_tree, rel);
        CHECK(e != NULL);
        if (!e) {
                fprintf(stderr, "  missing: %s\n", rel);
                return 0;
        }
        n_compared++;
        CHECK(e->kind == entry_kind_from_mode(st->st_mode));
        CHECK(e->mode == (st->st_mode & 07777) && e->uid == st->st_uid && e->gid == st->st_gid);
        CHECK(e->mtime_ns == (int64_t) T0 * 1000000000LL && e->nlink == st->st_nlink);
        bool cut = short_sparse && strcmp(rel, "/sparse.bin") == 0;
        if (!S_ISDIR(st->st_mode) && !cut)
                CHECK(e->size == (uint64_t) st->st_size);
        if (!S_ISDIR(st->st_mode) && !cut && e->size != (uint64_t) st->st_size)
                fprintf(stderr, "  %s: size %" PRIu64 "\n", rel, e->size);
        if (S_ISCHR(st->st_mode))
                CHECK(e->rdev == st->st_rdev);
        if (S_ISLNK(st->st_mode)) {
                char target[4096];
                ssize_t l = readlink(host, target, sizeof target - 1);
                target[l > 0 ? l : 0] = 0;
                CHECK(streq_ptr(e->target, target));
        }
        if (S_ISREG(st->st_mode)) {
                uint8_t want[32];
                sha256_file(host, cut ? e->size : UINT64_MAX, want);
                CHECK(e->has_sha256 && memcmp(e->sha256, want, 32) == 0);
        } else
                CHECK(!e->has_sha256);
        check_xattrs(host, e);
        return 0;
}

static void compare_with_host(const Manifest *m, const char *tree) {
        _cleanup_free_ char *root = td_path("tree");
        checked = m;
        checked_tree = tree;
        tree_root_len = strlen(root);
        n_compared = 0;
        CHECK(nftw(root, compare_one, 16, FTW_PHYS) == 0);
        CHECK(n_compared == 20);
        if (n_compared != 20)
                fprintf(stderr, "  compared %u\n", n_compared);
        const Entry *r = td_entry(m, tree, "/"), *lf = td_entry(m, tree, "/lost+found");
        CHECK(r && r->kind == ENTRY_KIND_DIRECTORY && r->ino == 2 && r->n_xattrs == 0);
        CHECK(lf && lf->kind == ENTRY_KIND_DIRECTORY && lf->mode == 0700);
}

static void test_against_host(const char *name, const char *mkfs_options) {
        Manifest *m = NULL;
        Error e = {};
        CHECK(td_sh("rm -f %s && truncate -s 64M %s && mke2fs -q -F %s -d tree %s", name, name, mkfs_options, name) == 0);
        CHECK(td_scan(&m, &e, name) == 0);
        if (!m) {
                fprintf(stderr, "  %s: %s\n", name, e.message);
                return;
        }
        CHECK(!m->inspected && m->n_filesystems == 1 && m->n_trees == 1);
        CHECK(streq_ptr(m->filesystems[0].device, "/dev/sda") && m->filesystems[0].scanned);
        CHECK(m->filesystems[0].size == 64ULL << 20);
        compare_with_host(m, "/dev/sda");
        /* Hard links share an inode and a hash. */
        const Entry *h1 = td_entry(m, "/dev/sda", "/h1"), *h3 = td_entry(m, "/dev/sda", "/dir/h3");
        CHECK(h1 && h3 && h1->ino == h3->ino && h1->nlink == 3 && memcmp(h1->sha256, h3->sha256, 32) == 0);
        manifest_free(m);
}

static void test_refused(void) {
        Manifest *m = NULL;
        Error e = {};

        /* A journal to replay: the kernel would change what it shows. */
        CHECK(td_sh("truncate -s 16M recover.img && mke2fs -q -F -t ext4 -d tree recover.img && "
                    "debugfs -w -R 'feature needs_recovery' recover.img") == 0);
        CHECK(td_scan(&m, &e, "recover.img") < 0 && e.code == ERR_DIRECT_UNSUPPORTED);

        /* An incompatible feature libext2fs does not know. */
        CHECK(td_sh("truncate -s 16M unknown.img && mke2fs -q -F -t ext4 -O ^metadata_csum unknown.img && "
                    "python3 -c 'import struct,sys; f=open(\"unknown.img\",\"r+b\"); f.seek(1024+0x60); "
                    "v=struct.unpack(\"<I\",f.read(4))[0]; f.seek(1024+0x60); f.write(struct.pack(\"<I\",v|0x10000000))'") == 0);
        e = (Error) {};
        CHECK(td_scan(&m, &e, "unknown.img") < 0 && e.code == ERR_DIRECT_UNSUPPORTED);

        /* A user.* attribute on a symbolic link: the appliance's getxattr
         * fails on it, so its scan of the directory would. */
        CHECK(td_sh("truncate -s 16M linkattr.img && mke2fs -q -F -t ext4 -d tree linkattr.img && "
                    "debugfs -w -R 'ea_set fast user.x y' linkattr.img") == 0);
        e = (Error) {};
        CHECK(td_scan(&m, &e, "linkattr.img") < 0 && e.code == ERR_DIRECT_UNSUPPORTED);

        /* A file larger than the kernel reads (16 GiB with 1 KiB blocks
         * and block maps): the appliance would hash only its first part. */
        CHECK(td_sh("truncate -s 16M big.img && mke2fs -q -F -t ext2 -b 1024 -d tree big.img && "
                    "debugfs -w -R 'sif empty size 0x500000000' big.img") == 0);
        e = (Error) {};
        CHECK(td_scan(&m, &e, "big.img") < 0 && e.code == ERR_DIRECT_UNSUPPORTED && strstr(e.message, "/empty"));

        /* A filesystem it does not read. */
        CHECK(td_sh("truncate -s 16M vfat.img && mkfs.vfat vfat.img") == 0);
        e = (Error) {};
        CHECK(td_scan(&m, &e, "vfat.img") < 0 && e.code == ERR_DIRECT_UNSUPPORTED && strstr(e.message, "vfat"));

        /* Cut short: never a crash, never a guess. */
        CHECK(td_sh("truncate -s 32M cut.img && mke2fs -q -F -t ext4 -d tree cut.img && truncate -s 2M cut.img") == 0);
        e = (Error) {};
        CHECK(td_scan(&m, &e, "cut.img") < 0 && e.code == ERR_DIRECT_UNSUPPORTED);

        /* Nothing on it: what the appliance says too. */
        CHECK(td_sh("head -c 4M /dev/zero >zero.img") == 0);
        e = (Error) {};
        CHECK(td_scan(&m, &e, "zero.img") < 0 && e.code == ERR_NOTHING_MOUNTABLE);
        CHECK(!m);
}

/* A guest: / by UUID=, /boot by LABEL=, a PARTUUID= entry libguestfs 1.48
 * skips (its filesystem is then a tree of its own), tmpfs ignored. */
static void test_os(void) {
        CHECK(td_sh("mkdir -p os-root/etc os-root/usr/bin os-root/boot os-root/srv os-boot/grub os-srv && "
                    "ln -s usr/bin os-root/bin && echo 12.5 >os-root/etc/debian_version && "
                    "printf 'ID=debian\\nVERSION_ID=\"12\"\\nPRETTY_NAME=\"Debian GNU/Linux 12\"\\n' >os-root/etc/os-release && "
                    "printf 'UUID=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0202 / ext4 defaults 0 1\\n"
                    "LABEL=BOOT /boot ext4 defaults 0 2\\nPARTUUID=5678abcd-03 /srv ext4 defaults 0 2\\n"
                    "tmpfs /tmp tmpfs defaults 0 0\\n' >os-root/etc/fstab && echo guest >os-root/etc/hostname && "
                    "echo cfg >os-boot/grub.cfg && echo data >os-srv/data.txt && "
                    "truncate -s 60M os.img && printf 'label: dos\\nlabel-id: 0x5678abcd\\n"
                    "start=2048, size=32768, type=83\\nstart=34816, size=49152, type=83\\n"
                    "start=83968, size=20480, type=83\\n' | sfdisk -q os.img && "
                    "mke2fs -q -F -t ext4 -L BOOT -d os-boot -E offset=%d os.img 16M && "
                    "mke2fs -q -F -t ext4 -U 6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0202 -d os-root -E offset=%d os.img 24M && "
                    "mke2fs -q -F -t ext4 -d os-srv -E offset=%d os.img 10M",
                    2048 * 512, 34816 * 512, 83968 * 512) == 0);
        Manifest *m = NULL;
        Error e = {};
        CHECK(td_scan(&m, &e, "os.img") == 0);
        if (!m) {
                fprintf(stderr, "  os.img: %s\n", e.message);
                return;
        }
        CHECK(m->inspected && streq_ptr(m->os_product, "12.5"));
        CHECK(m->n_filesystems == 3 && m->n_trees == 2);
        if (m->n_filesystems == 3) {
                CHECK(streq_ptr(m->filesystems[0].mountpoint, "/boot") && m->filesystems[0].scanned);
                CHECK(streq_ptr(m->filesystems[1].mountpoint, "/") && m->filesystems[1].scanned);
                CHECK(!m->filesystems[2].mountpoint && m->filesystems[2].scanned);
        }
        const Entry *boot = td_entry(m, "/", "/boot"), *cfg = td_entry(m, "/", "/boot/grub.cfg");
        CHECK(boot && boot->ino == 2 && boot->fs == 0 && boot->dev == volume_st_dev(0, 1));
        CHECK(cfg && cfg->fs == 0 && cfg->has_sha256);
        CHECK(td_entry(m, "/", "/etc/fstab") && td_entry(m, "/", "/etc/fstab")->fs == 1);
        CHECK(td_entry(m, "/dev/sda3", "/data.txt") != NULL);
        manifest_free(m);

        /* Content as the content stage asks for it: mount, read. */
        _cleanup_direct_side_ DirectSide *s = NULL;
        e = (Error) {};
        CHECK(td_open(&s, &e, 1, "os.img") == 0);
        if (!s)
                return;
        CHECK(direct_side_mount(s, "/dev/sda2", "/", &e) == 0);
        CHECK(direct_side_mount(s, "/dev/sda1", "/boot", &e) == 0);
        CHECK(direct_side_mount(s, "/dev/sda3", "/boot", &e) < 0);
        char buf[64] = "";
        size_t len = 0;
        CHECK(direct_side_read(s, "/boot/grub.cfg", td_collect, &(TdBuffer) {buf, &len, sizeof buf}, &e) == 0);
        CHECK(len == 4 && memcmp(buf, "cfg\n", 4) == 0);
        e = (Error) {};
        CHECK(direct_side_read(s, "/bin/x", td_collect, &(TdBuffer) {buf, &len, sizeof buf}, &e) < 0);
        e = (Error) {};
        CHECK(direct_side_read(s, "/nothing", td_collect, &(TdBuffer) {buf, &len, sizeof buf}, &e) < 0);
}

/* What a streamed scan handed its sink. */
typedef struct Seen {
        size_t trees, batches, entries, biggest;
        char *last; /* the last path, to check the order across batches */
        bool out_of_order, ended;
} Seen;

static int seen_head(void *userdata, const Manifest *head, Error *e) {
        return head->n_trees == 0 ? 0 : -1;
}

static int seen_tree(void *userdata, const char *key, Error *e) {
        Seen *s = userdata;
        s->trees++;
        free(s->last);
        s->last = NULL;
        return 0;
}

static int seen_entries(void *userdata, const Entry *entries, size_t n, Error *e) {
        Seen *s = userdata;
        s->batches++;
        s->entries += n;
        if (n > s->biggest)
                s->biggest = n;
        for (size_t i = 0; i < n; i++) {
                if (s->last && path_compare(s->last, entries[i].path) >= 0)
                        s->out_of_order = true;
                free(s->last);
                s->last = must(strdup(entries[i].path));
        }
        return 0;
}

static int seen_end(void *userdata, Error *e) {
        ((Seen *) userdata)->ended = true;
        return 0;
}

/* A tree of 5,000 entries streams in batches of at most WALK_BATCH, in
 * path order across batches (names whose order differs from their paths':
 * "a" < "a.b" < "a0" but "/a/..." sorts before "/a.b"). */
static void test_stream(void) {
        CHECK(td_sh("mkdir -p many && cd many && for d in a a.b a0 b; do mkdir $d; "
                    "for i in $(seq 1 1240); do : >$d/f$i; done; done && cd .. && "
                    "truncate -s 64M many.img && mke2fs -q -F -t ext4 -N 8192 -d many many.img") == 0);
        _cleanup_direct_side_ DirectSide *side = NULL;
        Error e = {};
        Seen seen = {};
        ManifestSink sink = {.head = seen_head, .tree = seen_tree, .entries = seen_entries, .end = seen_end,
                             .userdata = &seen};
        CHECK(td_open(&side, &e, 1, "many.img") == 0);
        CHECK(side && direct_side_scan_stream(side, NULL, &sink, &e) == 0);
        /* 4 x 1,240 files, their 4 directories, lost+found and the root. */
        CHECK(seen.ended && seen.trees == 1 && seen.entries == 4 * 1240 + 6);
        CHECK(seen.batches >= 5 && seen.biggest == WALK_BATCH && !seen.out_of_order);
        free(seen.last);
}

int main(void) {
        td_tmpdir();
        build_tree();
        test_against_host("ext4.img", "-t ext4 -b 4096 -I 256");
        short_sparse = true;
        test_against_host("inline.img", "-t ext4 -b 4096 -O inline_data");
        short_sparse = false;
        test_against_host("ext2.img", "-t ext2 -b 1024 -I 128");
        test_refused();
        test_os();
        test_stream();
        return test_report();
}
