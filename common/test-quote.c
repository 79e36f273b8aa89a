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

int main(void) {
        test_quote();
        return test_report();
}
