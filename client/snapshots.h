/* virt-diffctl snapshots DOMAIN: a libvirt domain's snapshots. */
#pragma once

int snapshots_command(const char *prog, int argc, char *argv[]);
