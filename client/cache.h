/* virt-diffctl cache stats|list|purge [IMAGE]|verify */
#pragma once

int cache_command(const char *prog, int argc, char *argv[]);
