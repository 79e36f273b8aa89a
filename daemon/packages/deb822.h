/* A reader of deb822 text (deb822(5)): paragraphs of "Name: value" fields
 * separated by blank lines, a value continued on lines that start with a
 * space or a tab. dpkg's status file is one. The input is hostile (a
 * guest's file): every malformed line is an error naming the file and the
 * line, never a crash or a read past the end; NUL bytes are refused. */
#pragma once

#include "common/errors.h"
#include "common/util.h"

typedef struct Deb822Field {
        char *name;
        /* The first line without surrounding blanks; each continuation line
         * follows after a '\n', with its leading blank kept and trailing
         * blanks dropped (as dpkg stores it). */
        char *value;
} Deb822Field;

typedef struct Deb822Paragraph {
        Deb822Field *fields;
        size_t n_fields;
        unsigned line; /* where it starts, from 1 */
} Deb822Paragraph;

void deb822_paragraph_done(Deb822Paragraph *p);

typedef struct Deb822Reader {
        const char *name; /* for messages: "var/lib/dpkg/status" */
        const char *p, *end;
        unsigned line;    /* lines consumed so far */
} Deb822Reader;

void deb822_reader_init(Deb822Reader *r, const char *name, const char *data, size_t len);

/* 1 and the next paragraph (which the caller frees), 0 at the end, -1 with
 * ERR_CORRUPT_PACKAGE_DB set in e for malformed input (a line that is no
 * field, a field name twice in a paragraph, a NUL byte), or ERR_INTERNAL
 * when out of memory. */
int deb822_next(Deb822Reader *r, Deb822Paragraph *ret, Error *e);

/* The value of a field (names compare without case), or NULL. */
const char *deb822_get(const Deb822Paragraph *p, const char *name);
