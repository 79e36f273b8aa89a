/* The limits of input-limits.h as the bus methods apply them: each refusal a
 * named error set on err, returned as a negative number. */
#pragma once

#include <systemd/sd-bus.h>

#include "common/input-limits.h"
#include "source/caller-access.h"

typedef struct Manager Manager;

/* The n-th entry of an options a{sv} (counted from 1). */
int limits_check_option_count(size_t n, sd_bus_error *err);
/* On the system bus, where the daemon is root, the caller's uid and groups:
 * what its images name is checked against them. Elsewhere the daemon is its
 * caller: *ret stays NULL. AccessDenied when the bus cannot say. */
int manager_query_caller(Manager *m, sd_bus_message *msg, CallerCreds **ret, sd_bus_error *err);

/* Unfinished jobs of the caller: by its uid when creds are known (the
 * system bus, where one uid may open many connections), else by its unique
 * bus name. Peer mode (no sender) has one caller: unlimited here. */
int limits_check_caller_jobs(Manager *m, const char *sender, const CallerCreds *caller, sd_bus_error *err);
