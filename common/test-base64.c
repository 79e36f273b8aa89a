/* Unit test of base64, as the result JSON writes names that are not UTF-8. */
#include <errno.h>
#include <string.h>

#include "common/base64.h"
#include "common/test-util.h"
#include "common/util.h"

static void test_base64(void) {
        const char *cases[][2] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" } };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *e = must(base64_encode((const uint8_t *) cases[i][0], strlen(cases[i][0])));
                _cleanup_free_ uint8_t *d = NULL;
                CHECK(strcmp(e, cases[i][1]) == 0);
                CHECK(base64_decode(e, &d) == (long) strlen(cases[i][0]) && strcmp((char *) d, cases[i][0]) == 0);
        }
        uint8_t *d = NULL;
        CHECK(base64_decode("Zm9", &d) == -EINVAL);
        CHECK(base64_decode("Z=9v", &d) == -EINVAL);
        CHECK(base64_decode("Zm9*", &d) == -EINVAL && d == NULL);
}

int main(void) {
        test_base64();
        return test_report();
}
