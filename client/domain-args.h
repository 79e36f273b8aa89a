/* The diff command's libvirt options: -d/-D DOMAIN, -c URI, --snapshot. */
#pragma once

#include "common/util.h"

typedef struct DiffArgs DiffArgs;

typedef struct DomainArgs {
        char *uri;
        char *snapshots[2];
        size_t n_snapshots;
} DomainArgs;

void domain_args_done(DomainArgs *d);
/* -d (side 0) or -D (side 1). */
int domain_args_add_domain(DiffArgs *a, int side, const char *domain);
/* -c URI and --snapshot; -EINVAL after one line on stderr. */
int domain_args_set_uri(DiffArgs *a, const char *prog, const char *uri);
int domain_args_add_snapshot(DiffArgs *a, const char *prog, const char *snapshot);
/* Applies the URI and the snapshots once every disk is known. */
int domain_args_finish(DiffArgs *a, const char *prog);
