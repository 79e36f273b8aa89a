/* The scheduler on real Job objects (no worker threads): slots, queue
 * positions, round robin between owners, and room for new jobs. */
#include "bus/manager-limits.h"
#include "bus/manager.h"
#include "common/test-util.h"
#include "job/scheduler.h"

static Job *add_job(Manager *m, const char *owner) {
        Job *j = must(job_new(m));
        if (owner)
                j->owner = must(strdup(owner));
        CHECK(job_set_id(j, m->next_id++) == 0);
        /* As the worker leaves it: validated, waiting for a slot. */
        j->validated = true;
        j->validated_handled = j->exported = true;
        m->jobs = must(realloc(m->jobs, (m->n_jobs + 1) * sizeof(Job *)));
        m->jobs[m->n_jobs++] = j;
        return j;
}

static void finish_job(Manager *m, Job *j) {
        j->finished = j->finished_handled = true;
        scheduler_forget_owner(m, j->owner);
}

static uint32_t position(Job *j) {
        return j->status.queue_position;
}

int main(void) {
        Manager m = {.next_id = 1, .max_running = 1, .max_queue = 6, .wake_fd = -1};

        /* Owner A floods the queue, then B submits two. */
        Job *a[5], *b[2];
        for (int i = 0; i < 5; i++)
                a[i] = add_job(&m, ":1.10");
        for (int i = 0; i < 2; i++)
                b[i] = add_job(&m, ":1.20");
        CHECK(!scheduler_has_room(&m)); /* 7 = 1 running + 6 queued */

        scheduler_run(&m);
        CHECK(a[0]->admitted && a[0]->status.state == JOB_STATE_RUNNING);
        CHECK(position(a[0]) == 0);
        /* B's first job is next: A just had its turn. */
        CHECK(position(b[0]) == 1);
        CHECK(position(a[1]) == 2);
        CHECK(position(b[1]) == 3);
        CHECK(position(a[2]) == 4 && position(a[3]) == 5 && position(a[4]) == 6);

        /* Expected admission order: A0 B0 A1 B1 A2 A3 A4. */
        Job *order[] = {a[0], b[0], a[1], b[1], a[2], a[3], a[4]};
        for (size_t k = 1; k < ELEMENTSOF(order); k++) {
                finish_job(&m, order[k - 1]);
                scheduler_run(&m);
                CHECK(order[k]->admitted);
                for (size_t l = k + 1; l < ELEMENTSOF(order); l++) {
                        CHECK(!order[l]->admitted);
                        CHECK(position(order[l]) == l - k);
                }
        }
        CHECK(scheduler_has_room(&m));
        unsigned running, queued;
        scheduler_counts(&m, &running, &queued);
        CHECK(running == 1 && queued == 0);

        /* Two slots: two admitted at once, from different owners first. */
        finish_job(&m, a[4]);
        m.max_running = 2;
        Job *c0 = add_job(&m, ":1.30"), *c1 = add_job(&m, ":1.30"), *d0 = add_job(&m, ":1.40");
        scheduler_run(&m);
        CHECK(c0->admitted && d0->admitted && !c1->admitted);
        CHECK(position(c1) == 1);

        /* Jobs per caller: by bus name on the session bus, by uid when
         * creds are known (the system bus), finished jobs not counted. */
        sd_bus_error err = SD_BUS_ERROR_NULL;
        m.max_jobs_per_caller = 2;
        CHECK(limits_check_caller_jobs(&m, ":1.40", NULL, &err) == 0);
        CHECK(limits_check_caller_jobs(&m, ":1.30", NULL, &err) < 0);
        CHECK(sd_bus_error_has_name(&err, "org.virtdiff.VirtDiff1.Error.TooManyJobs"));
        sd_bus_error_free(&err);
        CHECK(limits_check_caller_jobs(&m, NULL, NULL, &err) == 0); /* peer mode */
        finish_job(&m, c1);
        CHECK(limits_check_caller_jobs(&m, ":1.30", NULL, &err) == 0);
        CallerCreds *alice = NULL, *bob = NULL;
        CHECK(caller_creds_from_uid(1000, &alice) == 0 && caller_creds_from_uid(1001, &bob) == 0);
        Job *e0 = add_job(&m, ":1.50"), *e1 = add_job(&m, ":1.51");
        CHECK(caller_creds_from_uid(1000, &e0->caller) == 0 && caller_creds_from_uid(1000, &e1->caller) == 0);
        /* A third connection of the same uid is the same caller. */
        CHECK(limits_check_caller_jobs(&m, ":1.52", alice, &err) < 0);
        sd_bus_error_free(&err);
        CHECK(limits_check_caller_jobs(&m, ":1.52", bob, &err) == 0);
        caller_creds_free(alice);
        caller_creds_free(bob);

        for (size_t i = 0; i < m.n_jobs; i++)
                job_free(m.jobs[i]);
        free(m.jobs);
        for (size_t i = 0; i < m.n_turns; i++)
                free(m.turns[i].owner);
        free(m.turns);
        return test_report();
}
