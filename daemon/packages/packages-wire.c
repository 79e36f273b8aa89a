#include "packages/packages-wire.h"

#define PACKAGES_WIRE_VERSION 1

/* The fewest bytes an encoded package or file record takes. */
#define PACKAGE_MIN (4 * 3)
#define FILE_MIN (4 + 4 + 1 + 1 + 1 + 1)

void package_set_encode(const PackageSet *ps, WireBuf *b) {
        wire_put_u32(b, PACKAGES_WIRE_VERSION);
        wire_put_u8(b, (uint8_t) ps->format);
        wire_put_u32(b, (uint32_t) ps->error);
        wire_put_optstr(b, ps->error_message);
        wire_put_u32(b, (uint32_t) ps->n_packages);
        for (size_t i = 0; i < ps->n_packages; i++) {
                wire_put_str(b, ps->packages[i].name);
                wire_put_str(b, ps->packages[i].arch);
                wire_put_str(b, ps->packages[i].version);
        }
        wire_put_u32(b, (uint32_t) ps->n_files);
        for (size_t i = 0; i < ps->n_files; i++) {
                const OwnedFile *f = &ps->files[i];
                size_t size = digest_algo_size(f->algo);
                wire_put_str(b, f->path);
                wire_put_u32(b, f->package);
                wire_put_u8(b, f->flags);
                wire_put_u8(b, f->algo);
                if (size)
                        wire_put_bytes(b, f->digest, size);
                wire_put_u8(b, f->has_observed && size);
                if (f->has_observed && size)
                        wire_put_bytes(b, f->observed, size);
                wire_put_optstr(b, f->link);
        }
}

static int bad(Error *e, const char *what) {
        return error_set(e, ERR_SCAN_FAILED, "malformed package list (%s)", what);
}

static int compare_package(const Package *a, const Package *b) {
        int c = strcmp(a->name, b->name);
        if (c == 0)
                c = strcmp(a->arch, b->arch);
        return c ? c : strcmp(a->version, b->version);
}

static int get_digest(WireReader *r, size_t size, uint8_t *into) {
        size_t len = 0;
        _cleanup_free_ uint8_t *d = wire_get_bytes(r, &len);
        if (!d || len != size)
                return -1;
        memcpy(into, d, size);
        return 0;
}

static int decode_file(WireReader *r, PackageSet *ps, Error *e) {
        _cleanup_free_ char *path = wire_get_str(r);
        if (!path || path[0] != '/')
                return bad(e, "file path");
        uint32_t pkg = wire_get_u32(r);
        uint8_t flags = wire_get_u8(r), algo = wire_get_u8(r);
        if (r->failed || pkg >= ps->n_packages || (flags & ~_OWNED_FLAGS_ALL) || algo >= _DIGEST_MAX)
                return bad(e, "file record");
        size_t size = digest_algo_size(algo);
        uint8_t digest[DIGEST_MAX_SIZE], observed[DIGEST_MAX_SIZE];
        if (size && get_digest(r, size, digest) < 0)
                return bad(e, "digest");
        uint8_t has_observed = wire_get_u8(r);
        if (has_observed > 1 || (has_observed && !size))
                return bad(e, "observed digest");
        if (has_observed && get_digest(r, size, observed) < 0)
                return bad(e, "observed digest");
        _cleanup_free_ char *link = NULL;
        if (wire_get_optstr(r, &link) < 0)
                return bad(e, "link");
        if (ps->n_files > 0) {
                const OwnedFile *prev = &ps->files[ps->n_files - 1];
                int c = path_compare(prev->path, path);
                if (c > 0 || (c == 0 && prev->package >= pkg))
                        return bad(e, "files out of order");
        }
        if (package_set_add_file(ps, path, pkg, flags, (DigestAlgo) algo, size ? digest : NULL, link) < 0)
                return error_set(e, ERR_INTERNAL, "out of memory");
        if (has_observed) {
                OwnedFile *f = &ps->files[ps->n_files - 1];
                memcpy(f->observed, observed, size);
                f->has_observed = true;
        }
        return 0;
}

static int decode(WireReader *r, PackageSet *ps, Error *e) {
        if (wire_get_u32(r) != PACKAGES_WIRE_VERSION || r->failed)
                return bad(e, "version");
        uint8_t format = wire_get_u8(r);
        uint32_t error = wire_get_u32(r);
        if (r->failed || format >= _PACKAGE_FORMAT_MAX || error >= _ERR_MAX)
                return bad(e, "format or error");
        ps->format = (PackageFormat) format;
        ps->error = (ErrorCode) error;
        if (wire_get_optstr(r, &ps->error_message) < 0 || (ps->error != ERR_OK) != (ps->error_message != NULL))
                return bad(e, "error message");

        uint32_t np = wire_get_count(r, PACKAGE_MIN);
        if (r->failed)
                return bad(e, "package count");
        for (uint32_t i = 0; i < np; i++) {
                _cleanup_free_ char *name = wire_get_str(r), *arch = wire_get_str(r), *version = wire_get_str(r);
                if (!name || !arch || !version || !name[0] || !version[0])
                        return bad(e, "package");
                if (package_set_add_package(ps, name, arch, version) < 0)
                        return error_set(e, ERR_INTERNAL, "out of memory");
                if (i > 0 && compare_package(&ps->packages[i - 1], &ps->packages[i]) > 0)
                        return bad(e, "packages out of order");
        }
        uint32_t nf = wire_get_count(r, FILE_MIN);
        if (r->failed)
                return bad(e, "file count");
        if ((np == 0 && nf > 0) || (ps->error != ERR_OK && np > 0))
                return bad(e, "files without packages");
        for (uint32_t i = 0; i < nf; i++)
                if (decode_file(r, ps, e) < 0)
                        return -1;
        if (r->failed || r->left)
                return bad(e, "trailing bytes");
        return 0;
}

int package_set_decode(const uint8_t *data, size_t len, PackageSet **ret, Error *e) {
        _cleanup_package_set_ PackageSet *ps = package_set_new();
        if (!ps)
                return error_set(e, ERR_INTERNAL, "out of memory");
        WireReader r = {.p = data, .left = len};
        if (decode(&r, ps, e) < 0)
                return -1;
        *ret = TAKE_PTR(ps);
        return 0;
}
