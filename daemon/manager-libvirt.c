#include "manager-libvirt.h"

#include "libvirt-source.h"
#include "manager.h"

#define MAX_DISKS_PER_SIDE 32

#define invalid(err, ...) sd_bus_error_setf(err, VD_ERROR_PREFIX "InvalidArgs", __VA_ARGS__)

int manager_parse_disk(sd_bus_message *msg, Job *j, int side, sd_bus_error *err) {
        static const char *const keys[] = {"path", "format", "domain", "uri", "snapshot"};
        const char *values[ELEMENTSOF(keys)] = {};
        int r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const char *key;
                size_t i = 0;
                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                while (i < ELEMENTSOF(keys) && strcmp(key, keys[i]) != 0)
                        i++;
                if (i == ELEMENTSOF(keys))
                        return invalid(err, "unknown disk option '%s'", key);
                r = sd_bus_message_read(msg, "v", "s", &values[i]);
                if (r < 0)
                        return invalid(err, "disk option '%s' has the wrong type", key);
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return r;

        const char *path = values[0], *format = values[1], *domain = values[2], *uri = values[3],
                   *snapshot = values[4];
        if (domain && !domain[0])
                return invalid(err, "a disk's 'domain' is empty");
        if (snapshot && !snapshot[0])
                return invalid(err, "a disk's 'snapshot' is empty");
        if (domain && (path || format))
                return invalid(err, "a disk is either a 'path' or a 'domain' (whose disks have their formats)");
        if (!domain && uri)
                return invalid(err, "a disk has a 'uri' but no 'domain'");
        if (!domain && !path)
                return invalid(err, "a disk has no 'path' (or 'domain')");
        if (j->sides[side].n_disks >= MAX_DISKS_PER_SIDE)
                return sd_bus_error_setf(err, VD_ERROR_PREFIX "InvalidArgs", "at most %d disks a side",
                                         MAX_DISKS_PER_SIDE);
        r = job_add_disk(j, side, path ? path : domain, format);
        if (r < 0)
                return r;
        return disk_set_source(&j->sides[side].disks[j->sides[side].n_disks - 1], domain, uri, snapshot);
}

int method_list_snapshots(sd_bus_message *msg, void *userdata _unused_, sd_bus_error *err _unused_) {
        const char *uri, *domain;
        int r = sd_bus_message_read(msg, "ss", &uri, &domain);
        if (r < 0)
                return r;
        if (!domain[0])
                return invalid(err, "no domain given");

        LibvirtSnapshot *l = NULL;
        size_t n = 0;
        Error e = {0};
        if (libvirt_list_snapshots(uri, domain, &l, &n, &e) < 0)
                return manager_reply_error(msg, &e);

        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sxsssb)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(sxsssb)", l[i].name, l[i].creation_time, strempty(l[i].state),
                                          l[i].external ? "external" : "internal", strempty(l[i].parent),
                                          (int) l[i].current);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        libvirt_snapshots_free(l, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
