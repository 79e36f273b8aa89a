/* Unit test of quoting names for a line of text. */
#include <string.h>

#include "common/quote.h"
#include "common/test-util.h"
#include "common/util.h"

static void test_quote(void) {
        static const char s1[] = "a\nb\xff", s2[] = "/etc/caf\xc3\xa9", s3[] = "say \"hi\"\\\t\xc3\xa9";
        _cleanup_free_ char *q1 = must(quote_bytes(s1, sizeof(s1) - 1));
        _cleanup_free_ char *q2 = must(quote_bytes(s2, sizeof(s2) - 1));
        _cleanup_free_ char *q3 = must(quote_bytes(s3, sizeof(s3) - 1));

        CHECK(strcmp(q1, "\"a\\nb\\xff\"") == 0);
        CHECK(strcmp(q2, "/etc/caf\xc3\xa9") == 0);
        CHECK(strcmp(q3, "\"say \\\"hi\\\"\\\\\\t\xc3\xa9\"") == 0);
}

static void test_escape(void) {
        /* Quotes stay, no surrounding quotes, '/' untouched; a right-to-left
         * override (U+202E) and a C1 control (U+0085) escaped whole. */
        static const char s1[] = "/tmp/a\nb\xff \"q\" <&>", s2[] = "/x/\xe2\x80\xaegpj.exe", s3[] = "\xc2\x85\xc3\xa9";
        _cleanup_free_ char *e1 = must(escape_bytes(s1, sizeof(s1) - 1));
        _cleanup_free_ char *e2 = must(escape_bytes(s2, sizeof(s2) - 1));
        _cleanup_free_ char *e3 = must(escape_bytes(s3, sizeof(s3) - 1));
        _cleanup_free_ char *q2 = must(quote_bytes(s2, sizeof(s2) - 1));

        CHECK(strcmp(e1, "/tmp/a\\nb\\xff \"q\" <&>") == 0);
        CHECK(strcmp(e2, "/x/\\xe2\\x80\\xaegpj.exe") == 0);
        CHECK(strcmp(q2, "\"/x/\\xe2\\x80\\xaegpj.exe\"") == 0);
        CHECK(strcmp(e3, "\\xc2\\x85\xc3\xa9") == 0);
}

int main(void) {
        test_quote();
        test_escape();
        return test_report();
}
