/* The JSON of org.virtdiff.VirtDiff1's replies, built from the daemon's
 * own structures; test-varlink-json checks each against the interface
 * definition. Each returns a new object, or NULL when out of memory. */
#pragma once

#include <json-c/json.h>

#include "appliance/pool.h"
#include "common/errors.h"
#include "job/job.h"
#include "source/domain.h"
#include "store/store.h"

#define VD_VARLINK_INTERFACE "org.virtdiff.VirtDiff1"

/* "org.virtdiff.VirtDiff1.NoSuchFile": the D-Bus error's varlink name. */
const char *varlink_error_name(ErrorCode code, char buf[static 128]);
/* An error's parameters: {"message": ...}. */
json_object *varlink_error_parameters(const Error *e);

json_object *varlink_progress_json(const JobStatus *s);
json_object *varlink_appliance_json(const PoolInfo *p);
json_object *varlink_snapshot_json(const LibvirtSnapshot *s);
json_object *varlink_cached_manifest_json(const StoreItem *item);
json_object *varlink_cache_stats_json(const StoreStats *st);
