/* A guest's /etc/fstab, parsed with libmount, for the entries libguestfs'
 * inspection reads from it through Augeas' Fstab lens (spec, file,
 * vfstype). Augeas fails a whole file on a line its lens does not take,
 * and then libguestfs' inspection fails; libmount reads some lines
 * differently (escapes, inline comments). So every line is first checked
 * against a strict subset of what both read the same way:
 *   blank, "#" comment, or SPEC FILE VFSTYPE [OPTS [DUMP [PASSNO]]]
 * with no backslash, no '#', no control byte, comma lists without empty
 * items, numeric DUMP and PASSNO and a final newline. Anything else is
 * refused with ERR_DIRECT_UNSUPPORTED. */
#pragma once

#include "common/errors.h"

typedef struct FstabEntry {
        char *spec, *file, *vfstype;
} FstabEntry;

typedef struct Fstab {
        FstabEntry *v;
        size_t n;
} Fstab;

void fstab_done(Fstab *f);
int fstab_parse(const char *text, size_t len, Fstab *ret, Error *e);

/* libguestfs' unix_canonical_path(): empty components dropped. */
char *fstab_canonical_path(const char *path);
