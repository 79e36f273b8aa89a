/* Prints each file's content key and how long fingerprint_file() took:
 * the driver of bench/fingerprint.sh.
 *   fingerprint-bench FILE... */
#include "source/image-key.h"

int main(int argc, char *argv[]) {
        for (int i = 1; i < argc; i++) {
                uint8_t key[FINGERPRINT_SIZE];
                Error e = {};
                uint64_t t = now_usec_monotonic();

                if (fingerprint_file(argv[i], NULL, key, NULL, &e) < 0) {
                        fprintf(stderr, "%s\n", e.message);
                        return 1;
                }
                t = now_usec_monotonic() - t;

                _cleanup_free_ char *hex = hexmem(key, sizeof key);
                if (!hex)
                        return 1;
                printf("%s %.6f %s\n", hex, (double) t / 1e6, argv[i]);
        }
        return 0;
}
