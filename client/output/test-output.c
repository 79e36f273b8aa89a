/* Unit tests of the text writers, on result documents as the daemon writes
 * them (test-output-*.json beside this file: the comparer's result for the
 * manifests each test names). */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "common/test-util.h"
#include "common/util.h"
#include "output/output.h"

static const char *data_dir;

static inline void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}

static json_object *load(const char *name) {
        _cleanup_free_ char *path = NULL;
        must(asprintf(&path, "%s/%s", data_dir, name) >= 0 ? path : NULL);
        json_object *o = json_object_from_file(path);
        if (!o) {
                fprintf(stderr, "cannot read %s\n", path);
                exit(1);
        }
        return o;
}

static char *render(json_object *o, const OutputOptions *opts) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = must(open_memstream(&buf, &len));

        CHECK(output_write(f, o, opts) == 0);
        fclose(f);
        return buf;
}

static void test_output(void) {
        /* One inspected OS: a filesystem's uuid and label, a symlink target,
         * char -> file, an added file and fifo (named with a newline), a
         * chmod+chown, a removed directory. */
        _cleanup_(json_object_putp) json_object *o = load("test-output-os.json");
        CHECK(o != NULL);
        if (!o)
                return;

        _cleanup_free_ char *text = render(o, &(OutputOptions) {});
        CHECK(strcmp(text, "/dev/sda1: Filesystem changed (uuid, label)\n"
                           "/bin/sh: Symlink modified\n"
                           "/dev/null: Type changed (char -> file)\n"
                           "/etc/new: File added\n"
                           "/etc/passwd: File metadata changed (mode, uid)\n"
                           "/run/old: Directory removed\n"
                           "\"/tmp\\nx\": FIFO added\n") == 0);

        _cleanup_free_ char *mounted = render(o, &(OutputOptions) { .mount = true });
        static const char first[] = "/dev/sda1: Filesystem changed (uuid, label) (mounted on /)\n";
        CHECK(strncmp(mounted, first, sizeof(first) - 1) == 0);

        _cleanup_free_ char *lng = render(o, &(OutputOptions) { .long_listing = true });
        CHECK(strcmp(lng, "/dev/sda1: Filesystem changed, type: ext4, size: 1073741824, mount point: /, changed: uuid,label\n"
                          "/bin/sh: modified, size: 10, kind: symlink, target: bash\n"
                          "/dev/null: type, size: 10, kind: char -> file\n"
                          "/etc/new: added, size: 10\n"
                          "/etc/passwd: metadata, size: 10, fields: mode,uid\n"
                          "/run/old: removed, size: 4096, kind: directory\n"
                          "\"/tmp\\nx\": added, size: 10, kind: fifo\n") == 0);

        /* -t: nothing of type ext4 asked for, so nothing is left. */
        char *types[] = { (char *) "xfs", NULL };
        _cleanup_free_ char *filtered = render(o, &(OutputOptions) { .format = OUTPUT_JSON, .types = types });
        _cleanup_(json_object_putp) json_object *p = json_tokener_parse(filtered);
        CHECK(p && json_object_array_length(json_object_object_get(p, "changes")) == 0);
        CHECK(p && !json_object_get_boolean(json_object_object_get(json_object_object_get(p, "summary"), "differences")));
        CHECK(filtered[strlen(filtered) - 1] == '\n');
}

static void test_output_trees(void) {
        /* No OS: two filesystems, each its own tree, a file added to each. */
        _cleanup_(json_object_putp) json_object *o = load("test-output-trees.json");
        CHECK(o != NULL);
        if (!o)
                return;

        _cleanup_free_ char *text = render(o, NULL);
        CHECK(strcmp(text, "/dev/sda1:/x: File added\n/dev/sda2:/srv/x: File added\n") == 0);
}

static char *render_md(json_object *o, uint64_t max) {
        return render(o, &(OutputOptions) {.format = OUTPUT_MARKDOWN, .max_bytes = max, .now = 1});
}

static void test_markdown(void) {
        _cleanup_(json_object_putp) json_object *o = load("test-output-os.json");
        if (!o)
                return;
        /* A diff with a fence inside it, on the symlink's change. */
        json_object *c = json_object_array_get_idx(json_object_object_get(o, "changes"), 0);
        _cleanup_free_ char *diff = NULL;
        size_t dlen = 0;
        FILE *d = must(open_memstream(&diff, &dlen));
        fputs("--- a/bin/sh\n+++ b/bin/sh\n@@ -1,40 +1,40 @@\n", d);
        for (int i = 0; i < 40; i++)
                fprintf(d, "%cline %d ```\n", i % 2 ? '+' : '-', i);
        fclose(d);
        json_object_object_add(c, "diff", json_object_new_string(diff));

        _cleanup_free_ char *full = render_md(o, 0);
        size_t len = strlen(full);
        /* Names in code spans, one line each; the fence outruns the diff's. */
        CHECK(strstr(full, "| added | `\"/tmp\\nx\"` | fifo | 10 |  |\n") == NULL);
        CHECK(strstr(full, "| added | `/tmp\\nx` | fifo | 10 |  |\n") != NULL);
        CHECK(strstr(full, "| metadata | `/etc/passwd` | file | 10 | mode `0644` → `0600`, uid `0` → `5` |\n") != NULL);
        CHECK(strstr(full, "\n````diff\n--- a/bin/sh\n") != NULL);
        CHECK(strstr(full, "\n````\n\n</details>\n") != NULL);

        /* Every limit: the whole text when it fits, else a prefix ending at a
         * line, what the cut left open closed, and a note that counts what
         * is missing; never more than the limit. */
        for (uint64_t max = OUTPUT_MIN_MAX_BYTES; max <= len + 2; max++) {
                _cleanup_free_ char *cut = render_md(o, max);
                size_t n = strlen(cut);
                if (len <= max) {
                        CHECK(strcmp(cut, full) == 0);
                        continue;
                }
                CHECK(n <= max);
                char *note = strstr(cut, "\n> **Cut to ");
                CHECK(note != NULL);
                if (!note)
                        break;
                size_t head = (size_t) (note - cut);
                static const char closer[] = "````\n\n</details>\n";
                if (head >= sizeof(closer) - 1 && memcmp(note - (sizeof(closer) - 1), closer, sizeof(closer) - 1) == 0 &&
                    strncmp(full + head - (sizeof(closer) - 1), closer, sizeof(closer) - 1) != 0)
                        head -= sizeof(closer) - 1;
                CHECK(head > 0 && strncmp(cut, full, head) == 0 && full[head - 1] == '\n');
                size_t lines = 0;
                for (size_t i = head; i < len; i++)
                        lines += full[i] == '\n';
                char want[128];
                snprintf(want, sizeof want, "**Cut to %" PRIu64 " bytes** (--max-bytes): %zu more lines (%zu bytes) left out",
                         max, lines, len - head);
                CHECK(strstr(note, want) != NULL);
                CHECK(cut[n - 1] == '\n');
        }
}

static size_t count(const char *s, const char *what) {
        size_t n = 0;
        for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
                n++;
        return n;
}

static void test_html(void) {
        _cleanup_(json_object_putp) json_object *o = load("test-output-os.json");
        if (!o)
                return;
        /* A name with markup in it: in the list and the data block, never
         * as an element. */
        json_object *c = json_object_array_get_idx(json_object_object_get(o, "changes"), 2);
        json_object_object_add(c, "path", json_object_new_string("/etc/<script>alert(1)</script> & \"q\""));
        _cleanup_free_ char *html = render(o, &(OutputOptions) {.format = OUTPUT_HTML, .now = 1});

        CHECK(strncmp(html, "<!DOCTYPE html>\n", 16) == 0);
        CHECK(strstr(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'sha256-"));
        CHECK(count(html, "<script") == 2 && count(html, "</script") == 2 && count(html, "</noscript>") == 1);
        CHECK(strstr(html, "<code>/etc/&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;</code>"));
        CHECK(strstr(html, "\"/etc/\\u003cscript\\u003ealert(1)\\u003c/script\\u003e \\u0026 \\\"q\\\"\""));
        /* The newline of "/tmp\nx" shown escaped, as the text output does. */
        CHECK(strstr(html, "<code>/tmp\\nx</code>"));
        CHECK(strstr(html, "Exit status 1: the sides differ."));
        CHECK(strstr(html, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\""));
}

static void test_output_packages(void) {
        /* --packages and --explain on a result with package changes and
         * causes (test-output-packages.json, schema-valid). */
        _cleanup_(json_object_putp) json_object *o = load("test-output-packages.json");
        CHECK(o != NULL);
        if (!o)
                return;

        _cleanup_free_ char *plain = render(o, &(OutputOptions) {});
        CHECK(strcmp(plain, "/etc/vd/same.conf: File modified\n/usr/bin/vd-base: File modified\n"
                            "/usr/bin/vd-same: File modified\n/var/log/vd.log: File added\n") == 0);

        _cleanup_free_ char *explained = render(o, &(OutputOptions) { .packages = true, .explain = true });
        CHECK(strcmp(explained, "vd-base 1.0-1 -> 1.1-1: upgraded\n"
                                "vd-new 1.0-1: added\n"
                                "vd-old 1.0-1: removed\n"
                                "Tampered (no package change explains them) (1):\n"
                                "  /usr/bin/vd-same: File modified [vd-same]\n"
                                "Configuration files edited (1):\n"
                                "  /etc/vd/same.conf: File modified [vd-same]\n"
                                "Installed, upgraded or removed with their packages (1):\n"
                                "  /usr/bin/vd-base: File modified [vd-base]\n"
                                "Not owned by any package (1):\n"
                                "  /var/log/vd.log: File added\n") == 0);
        if (strncmp(explained, "vd-base", 7) != 0)
                fprintf(stderr, "%s", explained);

        _cleanup_free_ char *lng = render(o, &(OutputOptions) { .packages = true, .long_listing = true });
        CHECK(strstr(lng, "vd-base amd64 1.0-1 -> 1.1-1: upgraded\n") != NULL);

        _cleanup_free_ char *csv = render(o, &(OutputOptions) { .format = OUTPUT_CSV, .explain = true });
        CHECK(strstr(csv, "scope,change,kind,path,tree,filesystem,size,fields,target,cause,owner\n") == csv);
        CHECK(strstr(csv, "entry,modified,file,/usr/bin/vd-same,/,/dev/sda,14,content,,tampered,vd-same\n"));
        CHECK(strstr(csv, "entry,added,file,/var/log/vd.log,/,/dev/sda,11,,,unowned,\n"));

        _cleanup_free_ char *summary = render(o, &(OutputOptions) { .format = OUTPUT_SUMMARY });
        CHECK(strcmp(summary, "1 added, 0 removed, 3 modified, 0 metadata\n"
                              "packages: 1 added, 1 removed, 1 upgraded, 0 downgraded\n"
                              "causes: 1 tampered, 1 config, 1 package, 1 unowned\n") == 0);

        char *buf = NULL;
        size_t len = 0;
        FILE *f = must(open_memstream(&buf, &len));
        CHECK(output_packages_csv(f, o) == 0);
        fclose(f);
        CHECK(strcmp(buf, "name,arch,change,old_version,new_version\n"
                          "vd-base,amd64,upgraded,1.0-1,1.1-1\n"
                          "vd-new,all,added,,1.0-1\n"
                          "vd-old,all,removed,1.0-1,\n") == 0);
        free(buf);

        /* -t keeps the package counts and counts the causes again (no
         * filesystem listed here, so no change is hidden). */
        char *types[] = { (char *) "xfs", NULL };
        _cleanup_free_ char *filtered = render(o, &(OutputOptions) { .format = OUTPUT_SUMMARY, .types = types });
        CHECK(strstr(filtered, "packages: 1 added, 1 removed, 1 upgraded, 0 downgraded\n") &&
              strstr(filtered, "causes: 1 tampered, 1 config, 1 package, 1 unowned\n"));
}

static void test_virt_diff(void) {
        _cleanup_(json_object_putp) json_object *o = load("test-output-os.json");
        CHECK(o != NULL);
        if (!o)
                return;

        /* Upstream's fields and order: sign, type, mode, size, uid, gid,
         * checksum, path, target, xattrs. */
        OutputOptions opts = {.format = OUTPUT_VIRT_DIFF, .uids = true, .checksum = true, .xattrs = true};
        _cleanup_free_ char *text = render(o, &opts);
#define SUM "abababababababababababababababababababababababababababababababab"
        CHECK(strcmp(text, "# filesystem changed: /dev/sda1\n"
                           "- l 0644         10    0    0 /bin/sh -> /usr/bin/dash\n"
                           "+ l 0644         10    0    0 /bin/sh -> bash\n"
                           "# changed: link\n"
                           "- c 0644         10    0    0 /dev/null\n"
                           "+ - 0644         10    0    0 /dev/null\n"
                           "# changed: st_mode\n"
                           "+ - 0644         10    0    0 " SUM " /etc/new\n"
                           "- - 0644         10    0    0 " SUM " /etc/passwd security.selinux etc_t\n"
                           "+ - 0600         10    5    0 " SUM " /etc/passwd security.selinux etc_t\n"
                           "# changed: st_mode st_uid\n"
                           "- d 0755       4096    0    0 /run/old\n"
                           "+ p 0644         10    0    0 \"/tmp\\nx\"\n") == 0);

        /* Its CSV: no padding, the target a field of its own, the exact
         * bytes of a name, quoted. */
        opts.csv = true;
        _cleanup_free_ char *csv = render(o, &opts);
        CHECK(strcmp(csv, "#,filesystem,changed:,/dev/sda1\n"
                          "-,l,0644,10,0,0,/bin/sh,/usr/bin/dash\n"
                          "+,l,0644,10,0,0,/bin/sh,bash\n"
                          "#,changed:,link\n"
                          "-,c,0644,10,0,0,/dev/null\n"
                          "+,-,0644,10,0,0,/dev/null\n"
                          "#,changed:,st_mode\n"
                          "+,-,0644,10,0,0," SUM ",/etc/new\n"
                          "-,-,0644,10,0,0," SUM ",/etc/passwd,security.selinux,etc_t\n"
                          "+,-,0600,10,5,0," SUM ",/etc/passwd,security.selinux,etc_t\n"
                          "#,changed:,st_mode,st_uid\n"
                          "-,d,0755,4096,0,0,/run/old\n"
                          "+,p,0644,10,0,0,\"/tmp\nx\"\n") == 0);
#undef SUM
}

/* Upstream's CSV quoting: a field with a space, quote or comma is quoted;
 * xattr bytes that are not printable are \xHH. */
static void test_virt_diff_csv_quoting(void) {
        _cleanup_(json_object_putp) json_object *o = must(json_tokener_parse(
                "{\"filesystems\": [], \"summary\": {}, \"changes\": [{\"path\": \"/a \\\"b\\\",c\", "
                "\"tree\": \"/\", \"change\": \"added\", \"kind\": \"file\", \"fields\": [], \"old\": null, "
                "\"new\": {\"kind\": \"file\", \"mode\": 420, \"size\": 3, \"xattrs\": [{\"name\": \"user.x\", "
                "\"value_base64\": \"YSBiAA==\"}]}}]}"));
        OutputOptions opts = {.format = OUTPUT_VIRT_DIFF, .csv = true, .xattrs = true};
        _cleanup_free_ char *csv = render(o, &opts);
        CHECK(strcmp(csv, "+,-,0644,3,\"/a \"\"b\"\",c\",user.x,\"a b\\x00\"\n") == 0);

        opts.csv = false;
        _cleanup_free_ char *text = render(o, &opts);
        /* In a text line the name is quoted as ours are. */
        CHECK(strcmp(text, "+ - 0644          3 \"/a \\\"b\\\",c\" user.x a b\\x00\n") == 0);
}

int main(int argc, char **argv) {
        data_dir = argc > 1 ? argv[1] : ".";
        test_output();
        test_output_trees();
        test_markdown();
        test_html();
        test_output_packages();
        test_virt_diff();
        test_virt_diff_csv_quoting();
        return test_report();
}
