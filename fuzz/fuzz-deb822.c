/* A guest's dpkg status file: the deb822 reader on hostile text, and what
 * the dpkg reader does with each paragraph's fields (package names, the
 * version checks and order, Conffiles lines). */
#include "fuzz-util.h"
#include "packages/deb822.h"
#include "packages/dpkg-version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Deb822Reader r;
        Error e = {0};
        const char *prev_version = NULL;
        Deb822Paragraph prev = {0};
        unsigned last_line = 0;

        deb822_reader_init(&r, "status", (const char *) data, size);
        for (;;) {
                Deb822Paragraph p = {0};
                int k = deb822_next(&r, &p, &e);
                if (k <= 0) {
                        /* Refused with a named error, or the end. */
                        FUZZ_ASSERT(k == 0 ? e.code == ERR_OK
                                           : e.code == ERR_CORRUPT_PACKAGE_DB || e.code == ERR_INTERNAL);
                        FUZZ_ASSERT(k == 0 || strstr(e.message, "status, line "));
                        break;
                }
                FUZZ_ASSERT(p.n_fields > 0 && p.line > last_line);
                last_line = p.line;
                for (size_t i = 0; i < p.n_fields; i++) {
                        const Deb822Field *f = &p.fields[i];
                        FUZZ_ASSERT(f->name[0] && !strchr(f->name, ':') && !strchr(f->name, '\n'));
                        FUZZ_ASSERT(deb822_get(&p, f->name) == f->value);
                        /* Trimmed at both ends of every line's value. */
                        size_t l = strlen(f->value);
                        FUZZ_ASSERT(l == 0 || (f->value[l - 1] != ' ' && f->value[l - 1] != '\t'));
                }
                const char *v = deb822_get(&p, "Version");
                const char *why = NULL;
                if (v && dpkg_version_valid(v, &why)) {
                        /* An order: antisymmetric, reflexive. */
                        FUZZ_ASSERT(dpkg_version_compare(v, v) == 0);
                        if (prev_version) {
                                int c = dpkg_version_compare(v, prev_version), d = dpkg_version_compare(prev_version, v);
                                FUZZ_ASSERT((c < 0) == (d > 0) && (c == 0) == (d == 0));
                        }
                } else if (v)
                        FUZZ_ASSERT(why);
                deb822_paragraph_done(&prev);
                prev = p;
                prev_version = deb822_get(&prev, "Version");
                if (prev_version && !dpkg_version_valid(prev_version, NULL))
                        prev_version = NULL;
        }
        deb822_paragraph_done(&prev);
        return 0;
}
