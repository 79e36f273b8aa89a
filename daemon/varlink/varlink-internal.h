/* What the server's files share; not for other modules. */
#pragma once

#include "common/varlink-wire.h"
#include "varlink/varlink-idl.h"
#include "varlink/varlink-server.h"

typedef struct ServedInterface {
        VarlinkInterface *idl;
        VarlinkMethod *methods;
        size_t n_methods;
        void *userdata;
} ServedInterface;

struct VarlinkServer {
        sd_event *event;
        VarlinkServerInfo info;
        VarlinkServerHooks hooks;
        ServedInterface *interfaces; /* [0]: org.varlink.service */
        size_t n_interfaces;
        sd_event_source **listeners; /* each owns its socket */
        size_t n_listeners;
        VarlinkConnection *connections;
        unsigned n_connections;
        uint64_t next_id;
};

struct VarlinkConnection {
        unsigned n_ref;
        VarlinkServer *server; /* NULL once closed */
        VarlinkConnection *prev, *next;
        uint64_t id;
        int fd;
        sd_event_source *io, *defer;
        VarlinkReader in;
        VarlinkWriter out;
        struct ucred peer;
        gid_t *groups;
        size_t n_groups;
        VarlinkCall *current; /* the call being answered; a reference */
        bool eof;             /* the client will send nothing more */
        bool hup;             /* nor read anything */
        int failed;           /* < 0: to be closed for this reason */
        VarlinkUpgradeHandler upgrade; /* set: leaving varlink once the reply is out */
        void *upgrade_userdata;
};

struct VarlinkCall {
        unsigned n_ref;
        VarlinkConnection *conn; /* not a reference; NULL once gone */
        const VarlinkSymbol *symbol;
        char *method;
        unsigned flags; /* VarlinkCallFlags */
        bool answered;
        void (*gone)(VarlinkCall *c, void *userdata);
        void *gone_userdata;
};

/* varlink-connection.c */
int connection_new(VarlinkServer *s, int fd, VarlinkConnection **ret);
void connection_close(VarlinkConnection *c, int reason);
VarlinkConnection *connection_unref(VarlinkConnection *c);

/* varlink-server.c: handles one message; < 0 closes the connection. */
int server_dispatch(VarlinkServer *s, VarlinkConnection *c, json_object *message);
/* The definition of a qualified method or error name, or NULL. */
const VarlinkSymbol *server_find_symbol(const VarlinkServer *s, VarlinkSymbolKind kind, const char *name);
