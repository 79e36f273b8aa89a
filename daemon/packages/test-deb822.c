/* The deb822 reader: fields, continuation lines, separators, and every
 * refusal naming its line. */
#include "common/test-util.h"
#include "packages/deb822.h"

static void paragraphs(void) {
        static const char text[] = "\n\nPackage: a\nDescription: short\n more\n .\n\tlast  \nEmpty:\n"
                                   "\n \t\nPackage: b\r\nversion:   1.0  \r\n\n";
        Deb822Reader r;
        Deb822Paragraph p = {0};
        Error e = {0};
        deb822_reader_init(&r, "t", text, sizeof text - 1);
        CHECK(deb822_next(&r, &p, &e) == 1);
        CHECK(p.line == 3 && p.n_fields == 3);
        CHECK(strcmp(deb822_get(&p, "package"), "a") == 0);
        CHECK(strcmp(deb822_get(&p, "Description"), "short\n more\n .\n\tlast") == 0);
        CHECK(strcmp(deb822_get(&p, "Empty"), "") == 0);
        CHECK(!deb822_get(&p, "Version"));
        deb822_paragraph_done(&p);
        CHECK(deb822_next(&r, &p, &e) == 1);
        CHECK(p.line == 11 && p.n_fields == 2);
        CHECK(strcmp(deb822_get(&p, "Package"), "b") == 0 && strcmp(deb822_get(&p, "Version"), "1.0") == 0);
        deb822_paragraph_done(&p);
        CHECK(deb822_next(&r, &p, &e) == 0);
        CHECK(e.code == ERR_OK);

        /* No final newline. */
        deb822_reader_init(&r, "t", "A: 1\nB: 2", 9);
        CHECK(deb822_next(&r, &p, &e) == 1 && p.n_fields == 2 && strcmp(deb822_get(&p, "B"), "2") == 0);
        deb822_paragraph_done(&p);
        CHECK(deb822_next(&r, &p, &e) == 0);
        /* Empty input. */
        deb822_reader_init(&r, "t", "", 0);
        CHECK(deb822_next(&r, &p, &e) == 0);
}

static void refused(const char *text, size_t len, const char *message) {
        Deb822Reader r;
        Deb822Paragraph p = {0};
        Error e = {0};
        int k;
        deb822_reader_init(&r, "status", text, len);
        while ((k = deb822_next(&r, &p, &e)) > 0)
                deb822_paragraph_done(&p);
        CHECK(k == -1 && e.code == ERR_CORRUPT_PACKAGE_DB && strstr(e.message, message));
        if (!strstr(e.message, message))
                fprintf(stderr, "expected \"%s\" in: %s\n", message, e.message);
}

int main(void) {
        paragraphs();
        refused("A: 1\nno colon\n", 14, "status, line 2: a line that is neither");
        refused("A: 1\n\n continued\n", 17, "line 3: a continuation line before any field");
        refused(": value\n", 8, "empty name");
        refused("A B: 1\n", 7, "blank or a control character");
        refused("-A: 1\n", 6, "starting with '-'");
        refused("#A: 1\n", 6, "starting with '-' or '#'");
        refused("A: 1\na: 2\n", 10, "line 2: a field given twice");
        refused("A: 1\0\n", 6, "line 1: a NUL byte");
        refused("A: 1\n\n\0\n", 8, "line 3: a NUL byte");
        return test_report();
}
