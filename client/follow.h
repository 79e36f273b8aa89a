/* Following a job to its end, for the commands that start one (diff,
 * manifest) and for wait: submit it (on the session bus, else a private
 * daemon), show its progress line on a terminal, cancel it on Ctrl-C, and
 * hand its result to the command once it has finished. */
#pragma once

#include <json-c/json.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "connect.h"
#include "progress-term.h"

typedef struct Follow Follow;

/* Appends the method's arguments to m (a call to `method` on the Manager). */
typedef int (*FollowBuildFn)(Follow *f, sd_bus_message *m, sd_bus_error *err);
/* The job succeeded or failed with a reply: print the result, set
 * exit_status. A negative errno (err set when the daemon said why) is
 * printed as one line and exits 2. */
typedef int (*FollowDoneFn)(Follow *f, sd_bus_error *err);

struct Follow {
        const char *prog;
        void *userdata;
        FollowDoneFn done;
        bool show_progress; /* on stderr, redrawn in place */
        bool stop_only;     /* Ctrl-C stops following, never cancels (wait) */
        bool fds_passed;    /* --pass-fds: no hint about it on AccessDenied */
        /* CONNECT_AUTO with no session bus at all: another way to the
         * daemon before a private one (an exit status, or < 0 to go on). */
        int (*no_bus)(Follow *f);
        /* While the job runs: called once as following starts (first),
         * then ten times a second; the command may print what the job has
         * found so far, after follow_clear_progress(). */
        void (*running)(Follow *f, bool first);
        void *command_data; /* the command's, for running and done */
        int exit_status;

        /* Private to follow.c. */
        Connection conn;
        sd_event *event;
        sd_event_source *timer;
        sd_event_source *running_timer;
        char *job_path;
        bool cancelling;
        bool daemon_gone; /* the daemon went away before answering Wait */
        ProgressTerm term;
};

/* Connects as asked (falling back to a private daemon in CONNECT_AUTO when
 * no daemon answers on the session bus), calls Manager.method with build's
 * arguments and, unless detach, follows the job to its end. Returns the
 * exit status; with detach, prints the job's path and returns 0. */
int follow_submit(Follow *f, ConnectMode mode, bool verbose, bool trace, bool detach, const char *method,
                  FollowBuildFn build);

/* Follows a job submitted earlier (its path or number) on the bus. */
int follow_existing(Follow *f, ConnectMode mode, const char *job);

/* The finished job's result document, parsed. */
int follow_get_result(Follow *f, json_object **ret, sd_bus_error *err);

/* Takes the progress line off the terminal before printing; it comes back
 * at its next redraw. */
void follow_clear_progress(Follow *f);

/* "PROG: message" for a daemon's error or an errno. */
void follow_print_error(const char *prog, const sd_bus_error *e, int r);
