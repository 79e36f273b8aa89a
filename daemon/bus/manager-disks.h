/* The disks of the Manager interface: a side's disk given as a path, an
 * fd, a libvirt domain or a snapshot, and the list of a domain's snapshots. */
#pragma once

#include <systemd/sd-bus.h>

#include "job/job.h"

/* Reads one disk dict ("path", "format", "domain", "uri", "snapshot") of a
 * side into job j; unknown keys and bad combinations are InvalidArgs. */
int manager_parse_disk(sd_bus_message *msg, Job *j, int side, sd_bus_error *err);

int method_list_snapshots(sd_bus_message *msg, void *userdata, sd_bus_error *err);
