#include "domain-args.h"

#include "options.h"

void domain_args_done(DomainArgs *d) {
        free(d->uri);
        for (size_t i = 0; i < d->n_snapshots; i++)
                free(d->snapshots[i]);
        memset(d, 0, sizeof(*d));
}

int domain_args_add_domain(DiffArgs *a, int side, const char *domain) {
        ClientDisk *d = realloc(a->disks[side], sizeof(ClientDisk) * (a->n_disks[side] + 1));
        if (!d)
                return -ENOMEM;
        a->disks[side] = d;
        d += a->n_disks[side];
        *d = (ClientDisk){.domain = strdup(domain)};
        if (!d->domain)
                return -ENOMEM;
        a->n_disks[side]++;
        return 0;
}

int domain_args_set_uri(DiffArgs *a, const char *prog, const char *uri) {
        if (!uri[0]) {
                fprintf(stderr, "%s: -c needs a libvirt URI\n", prog);
                return -EINVAL;
        }
        free(a->domain.uri);
        a->domain.uri = strdup(uri);
        return a->domain.uri ? 0 : -ENOMEM;
}

int domain_args_add_snapshot(DiffArgs *a, const char *prog, const char *snapshot) {
        if (a->domain.n_snapshots >= 2) {
                fprintf(stderr, "%s: --snapshot given more than twice (one for each guest)\n", prog);
                return -EINVAL;
        }
        if (!snapshot[0]) {
                fprintf(stderr, "%s: --snapshot needs a snapshot name\n", prog);
                return -EINVAL;
        }
        char *s = strdup(snapshot);
        if (!s)
                return -ENOMEM;
        a->domain.snapshots[a->domain.n_snapshots++] = s;
        return 0;
}

static bool one_domain(const DiffArgs *a, int side) {
        return a->n_disks[side] == 1 && a->disks[side][0].domain;
}

static int set_snapshot(ClientDisk *d, const char *snapshot) {
        if (!snapshot)
                return 0;
        d->snapshot = strdup(snapshot);
        return d->snapshot ? 0 : -ENOMEM;
}

int domain_args_finish(DiffArgs *a, const char *prog) {
        DomainArgs *da = &a->domain;
        if (da->n_snapshots > 0) {
                if (!one_domain(a, 0)) {
                        fprintf(stderr, "%s: --snapshot needs the first guest to be one libvirt domain "
                                        "(-d DOMAIN)\n", prog);
                        return -EINVAL;
                }
                /* The second guest defaults to the same domain: now, or its
                 * second snapshot. */
                if (a->n_disks[1] == 0 && domain_args_add_domain(a, 1, a->disks[0][0].domain) < 0)
                        return -ENOMEM;
                if (da->n_snapshots == 2 && !one_domain(a, 1)) {
                        fprintf(stderr, "%s: a second --snapshot needs the second guest to be one libvirt "
                                        "domain (-D DOMAIN, or none)\n", prog);
                        return -EINVAL;
                }
                if (set_snapshot(&a->disks[0][0], da->snapshots[0]) < 0 ||
                    (one_domain(a, 1) && set_snapshot(&a->disks[1][0], da->n_snapshots == 2 ? da->snapshots[1] : NULL) < 0))
                        return -ENOMEM;
        }
        bool any = false;
        for (int s = 0; s < 2; s++)
                for (size_t i = 0; i < a->n_disks[s]; i++)
                        if (a->disks[s][i].domain) {
                                any = true;
                                if (da->uri && !(a->disks[s][i].uri = strdup(da->uri)))
                                        return -ENOMEM;
                        }
        /* As libguestfs virt-diff does, a URI with image files only is
         * ignored; but said. */
        if (da->uri && !any)
                fprintf(stderr, "%s: warning: -c %s is ignored: it is for libvirt domains (-d, -D)\n", prog,
                        da->uri);
        return 0;
}
