#include "direct/content-sum.h"

#include <openssl/evp.h>
#include <strings.h>

struct ContentSum {
        EVP_MD_CTX *md; /* NULL for crc */
        uint32_t crc;
        uint64_t length;
};

static const char *const digests[] = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512"};

/* POSIX cksum: CRC-32 with polynomial 0x04C11DB7, most significant bit
 * first, no reflection; the length follows the data, least significant
 * byte first, then the result is inverted. */
static uint32_t crc_table[256];

static void crc_table_init(void) {
        if (crc_table[1])
                return;
        for (uint32_t i = 0; i < 256; i++) {
                uint32_t c = i << 24;
                for (int k = 0; k < 8; k++)
                        c = c & 0x80000000U ? (c << 1) ^ 0x04C11DB7U : c << 1;
                crc_table[i] = c;
        }
}

static uint32_t crc_byte(uint32_t crc, uint8_t b) {
        return (crc << 8) ^ crc_table[(crc >> 24) ^ b];
}

int content_sum_new(const char *algorithm, ContentSum **ret) {
        const EVP_MD *d = NULL;
        if (strcasecmp(algorithm, "crc") != 0) {
                for (size_t i = 0; i < ELEMENTSOF(digests) && !d; i++)
                        if (strcasecmp(algorithm, digests[i]) == 0)
                                d = EVP_get_digestbyname(digests[i]);
                if (!d)
                        return -EINVAL;
        }
        ContentSum *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        if (d && (!(s->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(s->md, d, NULL) != 1)) {
                content_sum_free(s);
                return -ENOMEM;
        }
        crc_table_init();
        *ret = s;
        return 0;
}

int content_sum_update(void *sum, const void *data, size_t len) {
        ContentSum *s = sum;
        if (s->md)
                return EVP_DigestUpdate(s->md, data, len) == 1 ? 0 : -ENOMEM;
        const uint8_t *p = data;
        for (size_t i = 0; i < len; i++)
                s->crc = crc_byte(s->crc, p[i]);
        s->length += len;
        return 0;
}

char *content_sum_finish(ContentSum *s) {
        char *r = NULL;
        if (s->md) {
                unsigned char md[EVP_MAX_MD_SIZE];
                unsigned n = 0;
                if (EVP_DigestFinal_ex(s->md, md, &n) == 1)
                        r = hexmem(md, n);
        } else {
                uint32_t crc = s->crc;
                for (uint64_t l = s->length; l; l >>= 8)
                        crc = crc_byte(crc, (uint8_t) l);
                if (asprintf(&r, "%" PRIu32, ~crc) < 0)
                        r = NULL;
        }
        content_sum_free(s);
        return r;
}

ContentSum *content_sum_free(ContentSum *s) {
        if (s) {
                EVP_MD_CTX_free(s->md);
                free(s);
        }
        return NULL;
}
