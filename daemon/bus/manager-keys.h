/* Compare's keys for encrypted volumes: "keys" a(say), each a selector
 * (a device name, a volume UUID or "all") and the key's bytes, and
 * "ordered_keys" aay, one for each volume no selector opened, side A's
 * first. Checked here (counts, lengths, no NUL byte, which libguestfs
 * cannot pass); held by the job only until its scan is over; never logged
 * or published. */
#pragma once

#include <systemd/sd-bus.h>

#include "job/job.h"

/* Reads the variant of option KEY ("keys" or "ordered_keys") into j. */
int manager_parse_keys(sd_bus_message *msg, const char *key, Job *j, sd_bus_error *err);
