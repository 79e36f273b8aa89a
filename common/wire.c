#include "common/wire.h"

#include <endian.h>
#include <sys/socket.h>

void wire_buf_done(WireBuf *b) {
        free(b->data);
        *b = (WireBuf) {};
}

static void put(WireBuf *b, const void *p, size_t len) {
        if (b->failed)
                return;
        if (b->cap - b->len < len) {
                size_t cap = b->cap ? b->cap : 256;
                while (cap - b->len < len) {
                        if (cap > SIZE_MAX / 2) {
                                b->failed = true;
                                return;
                        }
                        cap *= 2;
                }
                uint8_t *d = realloc(b->data, cap);
                if (!d) {
                        b->failed = true;
                        return;
                }
                b->data = d;
                b->cap = cap;
        }
        if (len)
                memcpy(b->data + b->len, p, len);
        b->len += len;
}

void wire_put_u8(WireBuf *b, uint8_t v) {
        put(b, &v, 1);
}

void wire_put_u32(WireBuf *b, uint32_t v) {
        uint32_t le = htole32(v);
        put(b, &le, sizeof le);
}

void wire_put_u64(WireBuf *b, uint64_t v) {
        uint64_t le = htole64(v);
        put(b, &le, sizeof le);
}

void wire_put_i64(WireBuf *b, int64_t v) {
        wire_put_u64(b, (uint64_t) v);
}

void wire_put_bytes(WireBuf *b, const void *p, size_t len) {
        if (len > UINT32_MAX) {
                b->failed = true;
                return;
        }
        wire_put_u32(b, (uint32_t) len);
        put(b, p, len);
}

void wire_put_str(WireBuf *b, const char *s) {
        wire_put_bytes(b, s, strlen(s));
}

void wire_put_optstr(WireBuf *b, const char *s) {
        wire_put_u8(b, s != NULL);
        if (s)
                wire_put_str(b, s);
}

static const uint8_t *get(WireReader *r, size_t len) {
        if (r->failed || r->left < len) {
                r->failed = true;
                return NULL;
        }
        const uint8_t *p = r->p;
        r->p += len;
        r->left -= len;
        return p;
}

uint8_t wire_get_u8(WireReader *r) {
        const uint8_t *p = get(r, 1);
        return p ? *p : 0;
}

uint32_t wire_get_u32(WireReader *r) {
        uint32_t v = 0;
        const uint8_t *p = get(r, sizeof v);
        if (p)
                memcpy(&v, p, sizeof v);
        return le32toh(v);
}

uint64_t wire_get_u64(WireReader *r) {
        uint64_t v = 0;
        const uint8_t *p = get(r, sizeof v);
        if (p)
                memcpy(&v, p, sizeof v);
        return le64toh(v);
}

int64_t wire_get_i64(WireReader *r) {
        return (int64_t) wire_get_u64(r);
}

uint8_t *wire_get_bytes(WireReader *r, size_t *ret_len) {
        uint32_t len = wire_get_u32(r);
        const uint8_t *p = get(r, len);
        if (!p)
                return NULL;
        uint8_t *d = malloc((size_t) len + 1);
        if (!d) {
                r->failed = true;
                return NULL;
        }
        memcpy(d, p, len);
        d[len] = 0;
        *ret_len = len;
        return d;
}

char *wire_get_str(WireReader *r) {
        size_t len;
        char *s = (char *) wire_get_bytes(r, &len);
        if (s && strlen(s) != len) {
                free(s);
                r->failed = true;
                return NULL;
        }
        return s;
}

int wire_get_optstr(WireReader *r, char **ret) {
        *ret = NULL;
        uint8_t present = wire_get_u8(r);
        if (r->failed || present > 1)
                return (r->failed = true), -1;
        if (present && !(*ret = wire_get_str(r)))
                return -1;
        return 0;
}

uint32_t wire_get_count(WireReader *r, size_t min_size) {
        uint32_t n = wire_get_u32(r);
        if (r->failed)
                return 0;
        if (min_size && n > r->left / min_size) {
                r->failed = true;
                return 0;
        }
        return n;
}

static int write_all(int fd, const void *p, size_t len) {
        while (len > 0) {
                ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return errno == ECONNRESET ? -EPIPE : -errno;
                p = (const uint8_t *) p + w;
                len -= (size_t) w;
        }
        return 0;
}

int wire_send(int fd, uint8_t type, const WireBuf *payload) {
        size_t len = payload ? payload->len : 0;
        if (payload && payload->failed)
                return -ENOMEM;
        if (len + 1 > WIRE_FRAME_MAX)
                return -EMSGSIZE;
        uint8_t head[5];
        uint32_t le = htole32((uint32_t) len + 1);
        memcpy(head, &le, 4);
        head[4] = type;
        int r = write_all(fd, head, sizeof head);
        if (r < 0 || len == 0)
                return r;
        return write_all(fd, payload->data, len);
}

/* 0 when all len bytes came, -ECONNRESET at an end of file. */
static int read_all(int fd, void *p, size_t len) {
        while (len > 0) {
                ssize_t n = read(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno == ECONNRESET ? -ECONNRESET : -errno;
                if (n == 0)
                        return -ECONNRESET;
                p = (uint8_t *) p + n;
                len -= (size_t) n;
        }
        return 0;
}

int wire_recv(int fd, size_t max, uint8_t *ret_type, uint8_t **ret_payload, size_t *ret_len) {
        uint8_t head[5];
        int r = read_all(fd, head, sizeof head);
        if (r < 0)
                return r;
        uint32_t len;
        memcpy(&len, head, 4);
        len = le32toh(len);
        if (len == 0 || len > max + 1 || len > WIRE_FRAME_MAX)
                return -EMSGSIZE;
        size_t n = len - 1;
        uint8_t *d = malloc(n + 1);
        if (!d)
                return -ENOMEM;
        r = read_all(fd, d, n);
        if (r < 0) {
                free(d);
                return r;
        }
        d[n] = 0;
        *ret_type = head[4];
        *ret_payload = d;
        *ret_len = n;
        return 0;
}

int wire_send_fds(int sock, const int *fds, size_t n) {
        if (n == 0 || n > WIRE_FDS_MAX)
                return -EINVAL;
        char control[CMSG_SPACE(sizeof(int) * WIRE_FDS_MAX)] = {};
        uint8_t byte = 'F';
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                            .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
        for (;;) {
                ssize_t k = sendmsg(sock, &mh, MSG_NOSIGNAL);
                if (k < 0 && errno == EINTR)
                        continue;
                return k == 1 ? 0 : k < 0 ? -errno : -EIO;
        }
}

int wire_recv_fds(int sock, int *fds, size_t n) {
        char control[CMSG_SPACE(sizeof(int) * WIRE_FDS_MAX)] = {};
        uint8_t byte;
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                            .msg_controllen = sizeof control};
        ssize_t k;
        do
                k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        if (k == 0)
                return -ECONNRESET;
        size_t got = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        size_t m = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        for (size_t i = 0; i < m; i++) {
                                int fd;
                                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                                if (got < n && byte == 'F' && !(mh.msg_flags & MSG_CTRUNC))
                                        fds[got++] = fd;
                                else
                                        (void) close(fd);
                        }
                }
        if (got != n || byte != 'F' || (mh.msg_flags & MSG_CTRUNC)) {
                for (size_t i = 0; i < got; i++)
                        (void) close(fds[i]);
                return -EBADMSG;
        }
        return 0;
}
