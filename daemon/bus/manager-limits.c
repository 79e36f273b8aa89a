#include "bus/manager-limits.h"

#include "bus/manager.h"

#define invalid(err, ...) sd_bus_error_setf(err, VD_ERROR_PREFIX "InvalidArgs", __VA_ARGS__)

int limits_check_option_count(size_t n, sd_bus_error *err) {
        if (n > MAX_OPTIONS)
                return invalid(err, "more than %d options", MAX_OPTIONS);
        return 0;
}

int manager_query_caller(Manager *m, sd_bus_message *msg, CallerCreds **ret, sd_bus_error *err) {
        if (m->mode != BUS_MODE_SYSTEM)
                return 0;
        int r = caller_creds_from_message(msg, ret);
        if (r < 0)
                return sd_bus_error_setf(err, VD_ERROR_PREFIX "AccessDenied", "cannot tell who is calling: %s",
                                         strerror(-r));
        return 0;
}

int limits_check_caller_jobs(Manager *m, const char *sender, const CallerCreds *caller, sd_bus_error *err) {
        if (!sender)
                return 0;
        Scheduler *sched = job_table_scheduler(m->jobs);
        unsigned n = scheduler_count_caller(sched, sender, caller), max = scheduler_limits(sched)->max_jobs_per_caller;
        if (n >= max)
                return sd_bus_error_setf(err, VD_ERROR_PREFIX "TooManyJobs",
                                         "too many jobs of this caller: %u queued or running already (at most %u)",
                                         n, max);
        return 0;
}
