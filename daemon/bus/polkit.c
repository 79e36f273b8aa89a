#include "bus/polkit.h"

#include "common/errors.h"
#include "common/log.h"

#define POLKIT_TIMEOUT_USEC (25ULL * 1000000ULL)
/* Someone may be typing a password. */
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (300ULL * 1000000ULL)
#define POLKIT_ALLOW_USER_INTERACTION 1U

typedef struct PolkitRequest {
        sd_bus_message *call;
        char *action;
        PolkitFind find;
        void *find_data;
        sd_bus_message_handler_t handler;
} PolkitRequest;

/* The call whose handler runs again after polkit said yes: main thread
 * only, set just for that run. */
static sd_bus_message *authorized_call;

static void request_free(void *userdata) {
        PolkitRequest *q = userdata;
        if (!q)
                return;
        sd_bus_message_unref(q->call);
        free(q->action);
        free(q);
}

#define reply_denied(call, ...) sd_bus_reply_method_errorf(call, VD_ERROR_PREFIX "AccessDenied", __VA_ARGS__)

static int run_again(PolkitRequest *q) {
        void *userdata = q->find ? q->find(q->call, q->find_data) : q->find_data;
        if (!userdata)
                return sd_bus_reply_method_errorf(q->call, VD_ERROR_PREFIX "NoSuchJob", "no job %s",
                                                  strempty(sd_bus_message_get_path(q->call)));
        int r = sd_bus_message_rewind(q->call, true);
        if (r < 0)
                return sd_bus_reply_method_errnof(q->call, -r, "cannot read the call again: %m");

        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        authorized_call = q->call;
        r = q->handler(q->call, userdata, &error);
        authorized_call = NULL;
        /* What sd-bus does with a handler's result, for a call it no longer
         * dispatches. */
        if (sd_bus_error_is_set(&error))
                return sd_bus_reply_method_error(q->call, &error);
        if (r < 0)
                return sd_bus_reply_method_errnof(q->call, -r, "%m");
        return 0;
}

static int on_check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error _unused_) {
        PolkitRequest *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized = 0, challenge = 0, r;

        if (e) {
                log_error("Cannot ask polkit about %s: %s", q->action, e->message);
                (void) reply_denied(q->call, "%s: cannot ask polkit: %s", q->action, e->message);
                return 0;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                log_error("Cannot read polkit's answer about %s: %s", q->action, strerror(-r));
                (void) reply_denied(q->call, "%s: %s", q->action, "polkit's answer is unreadable");
                return 0;
        }
        if (!authorized) {
                log_info("polkit refuses %s to %s.", q->action, strempty(sd_bus_message_get_sender(q->call)));
                (void) reply_denied(q->call, "not authorized: %s %s", q->action,
                                    challenge ? "needs authentication (allow interactive authorization to be asked)"
                                              : "is not allowed to this caller");
                return 0;
        }
        (void) run_again(q);
        return 0;
}

int polkit_check(const Polkit *pk, sd_bus_message *call, const char *action, PolkitFind find, void *find_data,
                 sd_bus_message_handler_t handler, sd_bus_error *err) {
        if (!pk->enabled || call == authorized_call)
                return 1;
        const char *sender = sd_bus_message_get_sender(call);
        if (!sender)
                return sd_bus_error_setf(err, VD_ERROR_PREFIX "AccessDenied", "%s: the caller has no bus name",
                                         action);

        bool interactive = sd_bus_message_get_allow_interactive_authorization(call) > 0;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *q = NULL;
        int r = sd_bus_message_new_method_call(pk->bus, &q, "org.freedesktop.PolicyKit1",
                                               "/org/freedesktop/PolicyKit1/Authority",
                                               "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(q, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender, action,
                                          0, interactive ? POLKIT_ALLOW_USER_INTERACTION : 0U, "");
        if (r < 0)
                return r;
        /* polkit itself may need to ask someone. */
        (void) sd_bus_message_set_allow_interactive_authorization(q, interactive);

        PolkitRequest *req = calloc(1, sizeof(*req));
        if (!req)
                return -ENOMEM;
        *req = (PolkitRequest){
                .call = sd_bus_message_ref(call),
                .action = strdup(action),
                .find = find,
                .find_data = find_data,
                .handler = handler,
        };
        if (!req->action) {
                request_free(req);
                return -ENOMEM;
        }
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        r = sd_bus_call_async(pk->bus, &slot, q, on_check_reply, req,
                              interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : POLKIT_TIMEOUT_USEC);
        if (r < 0) {
                request_free(req);
                return r;
        }
        /* The bus owns the slot from now on, and frees the request with it,
         * also when the daemon exits before polkit answers. */
        (void) sd_bus_slot_set_destroy_callback(slot, request_free);
        (void) sd_bus_slot_set_floating(slot, 1);
        log_debug("Asking polkit about %s for %s%s.", action, sender, interactive ? " (interactive)" : "");
        return 0;
}

int polkit_sender_uid(sd_bus_message *call, uid_t *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        int r = sd_bus_query_sender_creds(call, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        return sd_bus_creds_get_euid(creds, ret);
}
