#include "source/domain.h"

#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <pthread.h>

#include "common/subprocess.h"

#define QEMU_IMG_TIMEOUT_USEC (60ULL * 1000000ULL)

static void silent(void *userdata _unused_, virErrorPtr err _unused_) {
}

/* Errors are read back with virGetLastErrorMessage(), not printed. */
static void libvirt_setup(void) {
        (void) virInitialize();
        virSetErrorFunc(NULL, silent);
}

static const char *last_message(void) {
        const char *m = virGetLastErrorMessage();
        return m ? m : "unknown libvirt error";
}

static void conn_closep(virConnectPtr *c) {
        if (*c)
                (void) virConnectClose(*c);
}

static void domain_freep(virDomainPtr *d) {
        if (*d)
                (void) virDomainFree(*d);
}

static void snapshot_freep(virDomainSnapshotPtr *s) {
        if (*s)
                (void) virDomainSnapshotFree(*s);
}

static void xml_doc_freep(xmlDocPtr *d) {
        if (*d)
                xmlFreeDoc(*d);
}

static void xpath_ctx_freep(xmlXPathContextPtr *c) {
        if (*c)
                xmlXPathFreeContext(*c);
}

static void xpath_obj_freep(xmlXPathObjectPtr *o) {
        if (*o)
                xmlXPathFreeObject(*o);
}

static void xml_freep(char **s) {
        if (*s)
                xmlFree(*s);
}

static void xml_silent(void *userdata _unused_, const char *fmt _unused_, ...) {
}

static int open_domain(const char *uri, const char *name, virConnectPtr *ret_conn, virDomainPtr *ret_dom, Error *e) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        (void) pthread_once(&once, libvirt_setup);
        /* libxml2 prints I/O warnings (an in-process driver's missing file)
         * through a handler of this thread's; the error comes back anyway. */
        xmlSetGenericErrorFunc(NULL, xml_silent);

        _cleanup_(conn_closep) virConnectPtr conn = virConnectOpenReadOnly(uri && uri[0] ? uri : NULL);
        if (!conn)
                return error_set(e, ERR_LIBVIRT_UNREACHABLE, "cannot connect to libvirt%s%s: %s",
                                 uri && uri[0] ? " at " : "", uri && uri[0] ? uri : "", last_message());
        virDomainPtr dom = virDomainLookupByName(conn, name);
        if (!dom)
                dom = virDomainLookupByUUIDString(conn, name);
        /* Only "no such domain" means the name is wrong: a connection that
         * fails under the lookup is libvirt being unreachable. */
        virErrorPtr err = dom ? NULL : virGetLastError();
        if (!dom && err && err->code != VIR_ERR_NO_DOMAIN && err->code != VIR_ERR_INVALID_ARG)
                return error_set(e, ERR_LIBVIRT_UNREACHABLE, "cannot look up domain '%s'%s%s: %s", name,
                                 uri && uri[0] ? " at " : "", uri && uri[0] ? uri : "", last_message());
        if (!dom)
                return error_set(e, ERR_UNKNOWN_DOMAIN, "no libvirt domain named '%s'%s%s", name,
                                 uri && uri[0] ? " at " : "", uri && uri[0] ? uri : "");
        *ret_conn = TAKE_PTR(conn);
        *ret_dom = dom;
        return 0;
}

/* ---- XML ---- */

typedef struct Xml {
        xmlDocPtr doc;
        xmlXPathContextPtr ctx;
} Xml;

static void xml_done(Xml *x) {
        xpath_ctx_freep(&x->ctx);
        xml_doc_freep(&x->doc);
}

static int xml_parse(const char *text, Xml *x) {
        x->doc = xmlReadMemory(text, (int) strlen(text), "libvirt.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                                                   XML_PARSE_NOWARNING);
        x->ctx = x->doc ? xmlXPathNewContext(x->doc) : NULL;
        return x->ctx ? 0 : -EINVAL;
}

/* The string value of an XPath expression below node, NULL when empty. */
static char *xml_string(Xml *x, xmlNodePtr node, const char *expr) {
        x->ctx->node = node ? node : xmlDocGetRootElement(x->doc);
        _cleanup_(xpath_obj_freep) xmlXPathObjectPtr o =
                xmlXPathEvalExpression((const xmlChar *) expr, x->ctx);
        if (!o)
                return NULL;
        _cleanup_(xml_freep) char *s = (char *) xmlXPathCastToString(o);
        return s && s[0] ? strdup(s) : NULL;
}

/* ---- a domain's disks ---- */

typedef struct DomainDisk {
        char *target; /* vda, sdb, ... */
        char *type;   /* file, block, network, volume, ... */
        char *source;
        char *format; /* the driver type, NULL when not given */
} DomainDisk;

static void domain_disks_free(DomainDisk *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(l[i].target);
                free(l[i].type);
                free(l[i].source);
                free(l[i].format);
        }
        free(l);
}

static int read_disk(Xml *x, xmlNodePtr node, DomainDisk *d) {
        d->target = xml_string(x, node, "string(target/@dev)");
        d->type = xml_string(x, node, "string(@type)");
        d->source = xml_string(x, node, "string(source/@file | source/@dev)");
        d->format = xml_string(x, node, "string(driver/@type)");
        return d->target ? 0 : -EINVAL;
}

/* Every <disk device='disk'> below root's XPath, in order. */
static int read_disks(Xml *x, const char *expr, DomainDisk **ret, size_t *ret_n) {
        x->ctx->node = xmlDocGetRootElement(x->doc);
        _cleanup_(xpath_obj_freep) xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *) expr, x->ctx);
        size_t n = o && o->nodesetval ? (size_t) o->nodesetval->nodeNr : 0;
        DomainDisk *l = calloc(n + 1, sizeof(DomainDisk));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (read_disk(x, o->nodesetval->nodeTab[i], &l[i]) < 0) {
                        domain_disks_free(l, n);
                        return -EINVAL;
                }
        *ret = l;
        *ret_n = n;
        return 0;
}

/* The file an external snapshot's overlay was created on: the disk's state
 * when the snapshot was taken. */
static int overlay_backing(const char *overlay, const char *format, char **ret_path, char **ret_format, Error *e) {
        char *argv[] = {"qemu-img", "info", "--output=json", "-U", "-f", (char *) (format ? format : "qcow2"),
                        (char *) overlay, NULL};
        SpawnResult r = {0};
        if (spawn_capture(argv, QEMU_IMG_TIMEOUT_USEC, 1 << 20, &r) < 0)
                return error_set(e, ERR_INTERNAL, "cannot run qemu-img: %m");
        json_object *root = r.status == 0 ? json_tokener_parse(r.out) : NULL, *v;
        const char *backing = NULL, *fmt = NULL;
        if (root && (json_object_object_get_ex(root, "full-backing-filename", &v) ||
                     json_object_object_get_ex(root, "backing-filename", &v)))
                backing = json_object_get_string(v);
        if (root && json_object_object_get_ex(root, "backing-filename-format", &v))
                fmt = json_object_get_string(v);
        int ret = 0;
        if (!root)
                ret = error_set(e, ERR_INVALID_IMAGE, "%s: cannot read the snapshot's overlay: %s", overlay,
                                r.err && r.err[0] ? r.err : "qemu-img info failed");
        else if (!backing)
                ret = error_set(e, ERR_INVALID_IMAGE, "%s: the snapshot's overlay has no backing file", overlay);
        else {
                *ret_path = strdup(backing);
                *ret_format = fmt ? strdup(fmt) : NULL;
                if (!*ret_path)
                        ret = error_set(e, ERR_INTERNAL, "out of memory");
        }
        json_object_put(root);
        spawn_result_done(&r);
        return ret;
}

/* How the snapshot kept one disk: "internal", "external" (then its overlay
 * and format), "no" or "manual". */
typedef struct SnapshotDisk {
        char *mode, *source, *format;
} SnapshotDisk;

static int snapshot_disk(Xml *snap, const char *target, SnapshotDisk *ret) {
        _cleanup_free_ char *expr = NULL;
        if (strchr(target, '\'') || asprintf(&expr, "/domainsnapshot/disks/disk[@name='%s']", target) < 0)
                return -EINVAL;
        snap->ctx->node = xmlDocGetRootElement(snap->doc);
        _cleanup_(xpath_obj_freep) xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *) expr, snap->ctx);
        xmlNodePtr node = o && o->nodesetval && o->nodesetval->nodeNr > 0 ? o->nodesetval->nodeTab[0] : NULL;
        if (!node) {
                ret->mode = strdup("internal");
                return ret->mode ? 0 : -ENOMEM;
        }
        ret->mode = xml_string(snap, node, "string(@snapshot)");
        ret->source = xml_string(snap, node, "string(source/@file | source/@dev)");
        ret->format = xml_string(snap, node, "string(driver/@type)");
        if (!ret->mode)
                ret->mode = strdup(ret->source ? "external" : "internal");
        return ret->mode ? 0 : -ENOMEM;
}

static void snapshot_disk_done(SnapshotDisk *s) {
        free(s->mode);
        free(s->source);
        free(s->format);
}

/* One domain disk as a Disk to read: now, or as the snapshot kept it. */
static int make_disk(const Disk *src, const DomainDisk *dd, Xml *snap, bool running, Disk *d, Error *e) {
        const char *name = src->domain;
        if (!dd->type || (strcmp(dd->type, "file") != 0 && strcmp(dd->type, "block") != 0))
                return error_set(e, ERR_UNSUPPORTED_DISK,
                                 "domain '%s': disk %s is a %s disk; only file and block disks can be read", name,
                                 dd->target, dd->type ? dd->type : "typeless");
        if (!dd->source)
                return error_set(e, ERR_UNSUPPORTED_DISK, "domain '%s': disk %s has no source", name, dd->target);

        _cleanup_(snapshot_disk_done) SnapshotDisk sd = {0};
        if (snap && snapshot_disk(snap, dd->target, &sd) < 0)
                return error_set(e, ERR_INTERNAL, "domain '%s': cannot read snapshot '%s'", name,
                                 src->domain_snapshot);

        _cleanup_free_ char *path = strdup(dd->source), *format = dd->format ? strdup(dd->format) : NULL;
        if (!path || (dd->format && !format))
                return error_set(e, ERR_INTERNAL, "out of memory");
        bool internal = snap && strcmp(sd.mode, "internal") == 0;
        if (snap && strcmp(sd.mode, "external") == 0) {
                if (!sd.source)
                        return error_set(e, ERR_UNSUPPORTED_DISK,
                                         "domain '%s': snapshot '%s' records no file for disk %s", name,
                                         src->domain_snapshot, dd->target);
                free(path);
                free(format);
                path = format = NULL;
                if (overlay_backing(sd.source, sd.format, &path, &format, e) < 0)
                        return -1;
        }

        *d = (Disk){
                .path = TAKE_PTR(path),
                .format = TAKE_PTR(format),
                .resolved = true,
                /* An external snapshot's file is no longer written. */
                .live = running && (!snap || internal || strcmp(sd.mode, "external") != 0),
        };
        d->format_given = d->format != NULL;
        d->domain_running = running;
        if (disk_set_source(d, src->domain, src->uri, NULL) < 0 ||
            (src->domain_snapshot && !(d->domain_snapshot = strdup(src->domain_snapshot))) ||
            (internal && !(d->snapshot = strdup(src->domain_snapshot))))
                return error_set(e, ERR_INTERNAL, "out of memory");
        return 0;
}

static int resolve_domain(const Disk *src, Disk **ret, size_t *ret_n, Error *e) {
        _cleanup_(conn_closep) virConnectPtr conn = NULL;
        _cleanup_(domain_freep) virDomainPtr dom = NULL;
        _cleanup_(snapshot_freep) virDomainSnapshotPtr snapshot = NULL;
        _cleanup_free_ char *xml = NULL, *snap_xml = NULL;
        _cleanup_(xml_done) Xml dx = {0}, sx = {0};

        if (open_domain(src->uri, src->domain, &conn, &dom, e) < 0)
                return -1;
        if (src->domain_snapshot) {
                snapshot = virDomainSnapshotLookupByName(dom, src->domain_snapshot, 0);
                if (!snapshot)
                        return error_set(e, ERR_UNKNOWN_SNAPSHOT, "domain '%s' has no snapshot named '%s'",
                                         src->domain, src->domain_snapshot);
                snap_xml = virDomainSnapshotGetXMLDesc(snapshot, 0);
                if (!snap_xml || xml_parse(snap_xml, &sx) < 0)
                        return error_set(e, ERR_INTERNAL, "domain '%s': cannot read snapshot '%s': %s",
                                         src->domain, src->domain_snapshot, last_message());
        }
        bool running = virDomainIsActive(dom) == 1;
        xml = virDomainGetXMLDesc(dom, 0);
        if (!xml || xml_parse(xml, &dx) < 0)
                return error_set(e, ERR_INTERNAL, "domain '%s': cannot read its definition: %s", src->domain,
                                 last_message());

        DomainDisk *dds = NULL;
        size_t n = 0;
        if (read_disks(&dx, "/domain/devices/disk[not(@device) or @device='disk']", &dds, &n) < 0)
                return error_set(e, ERR_INTERNAL, "domain '%s': cannot read its disks", src->domain);
        if (n == 0) {
                domain_disks_free(dds, n);
                return error_set(e, ERR_UNSUPPORTED_DISK, "domain '%s' has no disk", src->domain);
        }
        Disk *disks = calloc(n, sizeof(Disk));
        int r = disks ? 0 : error_set(e, ERR_INTERNAL, "out of memory");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = make_disk(src, &dds[i], snapshot ? &sx : NULL, running, &disks[i], e);
        domain_disks_free(dds, n);
        if (r < 0) {
                for (size_t i = 0; disks && i < n; i++)
                        disk_done(&disks[i]);
                free(disks);
                return -1;
        }
        *ret = disks;
        *ret_n = n;
        return 0;
}

int libvirt_resolve_disks(Disk **disks, size_t *n, Error *e) {
        for (size_t i = 0; i < *n; i++) {
                Disk *src = &(*disks)[i], *got = NULL;
                size_t k = 0;
                if (!src->domain || src->resolved)
                        continue;
                if (resolve_domain(src, &got, &k, e) < 0)
                        return -1;
                /* k >= 1: a domain without disks is an error. */
                Disk *l = realloc(*disks, (*n + k - 1) * sizeof(Disk));
                if (!l) {
                        for (size_t j = 0; j < k; j++)
                                disk_done(&got[j]);
                        free(got);
                        return error_set(e, ERR_INTERNAL, "out of memory");
                }
                *disks = l;
                src = &l[i];
                disk_done(src);
                memmove(src + k, src + 1, (*n - i - 1) * sizeof(Disk));
                memcpy(src, got, k * sizeof(Disk));
                free(got);
                *n += k - 1;
                i += k - 1;
        }
        return 0;
}

void libvirt_snapshots_free(LibvirtSnapshot *l, size_t n) {
        for (size_t i = 0; l && i < n; i++) {
                free(l[i].name);
                free(l[i].state);
                free(l[i].parent);
        }
        free(l);
}

static int read_snapshot(virDomainSnapshotPtr s, LibvirtSnapshot *ret) {
        _cleanup_free_ char *xml = virDomainSnapshotGetXMLDesc(s, 0);
        _cleanup_(xml_done) Xml x = {0};
        if (!xml || xml_parse(xml, &x) < 0)
                return -EINVAL;
        _cleanup_free_ char *created = xml_string(&x, NULL, "string(/domainsnapshot/creationTime)");
        _cleanup_free_ char *external = xml_string(
                &x, NULL, "string(count(/domainsnapshot/disks/disk[@snapshot='external']) + "
                          "count(/domainsnapshot/memory[@snapshot='external']))");
        ret->name = strdup(virDomainSnapshotGetName(s));
        ret->state = xml_string(&x, NULL, "string(/domainsnapshot/state)");
        ret->parent = xml_string(&x, NULL, "string(/domainsnapshot/parent/name)");
        ret->creation_time = created ? strtoll(created, NULL, 10) : 0;
        ret->external = external && strcmp(external, "0") != 0;
        ret->current = virDomainSnapshotIsCurrent(s, 0) == 1;
        return ret->name ? 0 : -ENOMEM;
}

static int snapshot_compare(const void *a, const void *b) {
        const LibvirtSnapshot *x = a, *y = b;
        if (x->creation_time != y->creation_time)
                return x->creation_time < y->creation_time ? -1 : 1;
        return strcmp(x->name, y->name);
}

int libvirt_list_snapshots(const char *uri, const char *domain, LibvirtSnapshot **ret, size_t *ret_n, Error *e) {
        _cleanup_(conn_closep) virConnectPtr conn = NULL;
        _cleanup_(domain_freep) virDomainPtr dom = NULL;
        virDomainSnapshotPtr *snaps = NULL;

        if (open_domain(uri, domain, &conn, &dom, e) < 0)
                return -1;
        int n = virDomainListAllSnapshots(dom, &snaps, 0);
        if (n < 0)
                return error_set(e, ERR_INTERNAL, "domain '%s': cannot list its snapshots: %s", domain,
                                 last_message());
        LibvirtSnapshot *l = calloc((size_t) n + 1, sizeof(LibvirtSnapshot));
        int r = l ? 0 : -ENOMEM;
        for (int i = 0; i < n; i++) {
                if (r >= 0)
                        r = read_snapshot(snaps[i], &l[i]);
                (void) virDomainSnapshotFree(snaps[i]);
        }
        free(snaps);
        if (r < 0) {
                libvirt_snapshots_free(l, (size_t) n);
                return error_set(e, ERR_INTERNAL, "domain '%s': cannot read its snapshots", domain);
        }
        qsort(l, (size_t) n, sizeof(LibvirtSnapshot), snapshot_compare);
        *ret = l;
        *ret_n = (size_t) n;
        return 0;
}
