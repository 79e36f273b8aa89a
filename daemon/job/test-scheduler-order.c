/* The scheduler on real Job objects (no threads): slots, queue positions,
 * round robin between owners, room for new jobs, and jobs per caller. */
#include "common/test-util.h"
#include "job/scheduler.h"

static JobContext ctx;
static uint64_t next_id = 1;
static Job *all[32];
static size_t n_all;

static Job *add_job(Scheduler *s, const char *owner) {
        Job *j = must(job_new(&ctx));
        if (owner)
                j->owner = must(strdup(owner));
        j->id = next_id++;
        /* As the pipeline leaves it: validated, listed, waiting for a slot. */
        j->validated = true;
        j->validated_handled = j->listed = true;
        CHECK(scheduler_add(s, j) == 0);
        all[n_all++] = j;
        return j;
}

static void finish_job(Scheduler *s, Job *j) {
        j->finished = j->finished_handled = true;
        scheduler_remove(s, j);
}

static uint32_t position(Job *j) {
        return j->status.queue_position;
}

int main(void) {
        Scheduler *s = NULL;
        CHECK(scheduler_new(&(SchedulerLimits){.max_running = 1, .max_queue = 6}, &s) == 0);
        if (!s)
                return test_report();

        /* Owner A floods the queue, then B submits two. */
        Job *a[5], *b[2];
        for (int i = 0; i < 5; i++)
                a[i] = add_job(s, ":1.10");
        for (int i = 0; i < 2; i++)
                b[i] = add_job(s, ":1.20");
        CHECK(!scheduler_has_room(s)); /* 7 = 1 running + 6 queued */

        scheduler_run(s);
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
                finish_job(s, order[k - 1]);
                scheduler_run(s);
                CHECK(order[k]->admitted);
                for (size_t l = k + 1; l < ELEMENTSOF(order); l++) {
                        CHECK(!order[l]->admitted);
                        CHECK(position(order[l]) == l - k);
                }
        }
        CHECK(scheduler_has_room(s));
        unsigned running, queued;
        scheduler_counts(s, &running, &queued);
        CHECK(running == 1 && queued == 0);

        /* Two slots: two admitted at once, from different owners first. */
        finish_job(s, a[4]);
        scheduler_limits(s)->max_running = 2;
        Job *c0 = add_job(s, ":1.30"), *c1 = add_job(s, ":1.30"), *d0 = add_job(s, ":1.40");
        scheduler_run(s);
        CHECK(c0->admitted && d0->admitted && !c1->admitted);
        CHECK(position(c1) == 1);

        /* Jobs per caller: by bus name on the session bus, by uid when
         * creds are known (the system bus), finished jobs not counted. */
        CHECK(scheduler_count_caller(s, ":1.40", NULL) == 1);
        CHECK(scheduler_count_caller(s, ":1.30", NULL) == 2);
        finish_job(s, c1);
        CHECK(scheduler_count_caller(s, ":1.30", NULL) == 1);
        CallerCreds *alice = NULL, *bob = NULL;
        CHECK(caller_creds_from_uid(1000, &alice) == 0 && caller_creds_from_uid(1001, &bob) == 0);
        Job *e0 = add_job(s, ":1.50"), *e1 = add_job(s, ":1.51");
        CHECK(caller_creds_from_uid(1000, &e0->caller) == 0 && caller_creds_from_uid(1000, &e1->caller) == 0);
        /* A third connection of the same uid is the same caller. */
        CHECK(scheduler_count_caller(s, ":1.52", alice) == 2);
        CHECK(scheduler_count_caller(s, ":1.52", bob) == 0);
        caller_creds_free(alice);
        caller_creds_free(bob);

        /* Turns by uid when creds are known: uid 1000 with four connections
         * gets no more turns than uid 1001 with one. */
        for (size_t i = 0; i < n_all; i++)
                if (job_unfinished(all[i]))
                        finish_job(s, all[i]);
        scheduler_limits(s)->max_running = 1;
        Job *u[4], *v0, *v1;
        for (int i = 0; i < 4; i++) {
                char name[16];
                snprintf(name, sizeof name, ":1.%d", 60 + i);
                u[i] = add_job(s, name);
                CHECK(caller_creds_from_uid(1000, &u[i]->caller) == 0);
        }
        v0 = add_job(s, ":1.70");
        v1 = add_job(s, ":1.70");
        CHECK(caller_creds_from_uid(1001, &v0->caller) == 0 && caller_creds_from_uid(1001, &v1->caller) == 0);
        scheduler_run(s);
        /* Expected: U0 V0 U1 V1 U2 U3, although U's jobs came first. */
        Job *by_uid[] = {u[0], v0, u[1], v1, u[2], u[3]};
        CHECK(u[0]->admitted);
        for (size_t k = 1; k < ELEMENTSOF(by_uid); k++)
                CHECK(position(by_uid[k]) == k);

        for (size_t i = 0; i < n_all; i++)
                job_free(all[i]);
        scheduler_free(s);
        return test_report();
}
