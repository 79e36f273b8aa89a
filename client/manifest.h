/* virt-diffctl manifest IMAGE... [--output=json|csv|mtree]: one guest's
 * manifest, exported (ExportManifest). Returns the exit status: 0, or 2
 * with one line on stderr. */
#pragma once

int manifest_command(const char *prog, int argc, char *argv[]);
