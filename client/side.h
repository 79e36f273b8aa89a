/* One side's disks as the bus takes them (a{sv} dicts, Compare and
 * ExportManifest): paths, file descriptors opened here (--pass-fds), libvirt
 * domains and snapshots, or one exported manifest. */
#pragma once

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "options.h"

/* Appends "aa{sv}"; a file that cannot be opened here is an error naming
 * it (NoSuchFile, AccessDenied). */
int side_append(sd_bus_message *m, const ClientDisk *disks, size_t n, bool pass_fds, sd_bus_error *err);

/* With --pass-fds the daemon knows the images only by its own fds: o's
 * "images" (a result's side, or a manifest) named as they were opened here. */
void side_name_images(json_object *o, const ClientDisk *disks, size_t n);
