/* virt-diffctl warm IMAGE... and virt-diffctl pool */
#pragma once

int warm_command(const char *prog, int argc, char *argv[]);
int pool_command(const char *prog, int argc, char *argv[]);
