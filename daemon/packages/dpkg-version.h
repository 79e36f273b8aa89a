/* Debian version strings, [epoch:]upstream[-revision], ordered as dpkg
 * orders them (deb-version(7)): epochs as numbers, then upstream version
 * and revision by alternating runs of non-digits (letters before other
 * characters, '~' before everything, even the end) and digits (as
 * numbers). */
#pragma once

#include <stdbool.h>

/* <0, 0 or >0. Never fails: a malformed string compares by its pieces as
 * well as it can (the reader refuses those; see dpkg_version_valid()). */
int dpkg_version_compare(const char *a, const char *b);

/* What dpkg itself refuses in a Version field: empty, whitespace inside,
 * an epoch that is not a number in range, an empty upstream version or
 * revision, an upstream version not starting with a digit is accepted (dpkg
 * only warns). Sets *ret_why to a static message on refusal. */
bool dpkg_version_valid(const char *v, const char **ret_why);
