#include "bus/manager-keys.h"

#include "bus/manager.h"
#include "job/job-input.h"

static int parse_one(sd_bus_message *msg, bool ordered, Job *j, sd_bus_error *err) {
        const char *selector = NULL;
        const void *p = NULL;
        size_t len = 0;
        Error e = {0};
        int r;

        if (!ordered) {
                r = sd_bus_message_enter_container(msg, 'r', "say");
                if (r < 0)
                        return r;
                r = sd_bus_message_read(msg, "s", &selector);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_read_array(msg, 'y', &p, &len);
        if (r < 0)
                return r;
        if (!ordered && (r = sd_bus_message_exit_container(msg)) < 0)
                return r;
        r = job_input_add_key(j, selector, p, len, &e);
        return r < 0 ? manager_set_error(err, &e, r) : 0;
}

int manager_parse_keys(sd_bus_message *msg, const char *key, Job *j, sd_bus_error *err) {
        bool ordered = streq_ptr(key, "ordered_keys");
        int r = sd_bus_message_enter_container(msg, 'v', ordered ? "aay" : "a(say)");
        if (r < 0)
                return sd_bus_error_setf(err, VD_ERROR_PREFIX "InvalidArgs", "option '%s' is not of type %s", key,
                                         ordered ? "aay" : "a(say)");
        r = sd_bus_message_enter_container(msg, 'a', ordered ? "ay" : "(say)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_at_end(msg, false)) == 0)
                if ((r = parse_one(msg, ordered, j, err)) < 0)
                        return r;
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}
