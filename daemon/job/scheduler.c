#include "job/scheduler.h"

#include "bus/manager.h"
#include "common/log.h"

unsigned scheduler_default_max_running(uint64_t memsize_mb) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
        uint64_t by_cores = cores > 0 ? (uint64_t) cores : 1;
        uint64_t by_memory = by_cores;
        if (pages > 0 && page > 0 && memsize_mb > 0)
                by_memory = (uint64_t) pages * (uint64_t) page / (2 * memsize_mb * 1024 * 1024);
        uint64_t n = by_cores < by_memory ? by_cores : by_memory;
        return n > 0 ? (unsigned) n : 1;
}

static bool job_unfinished(const Job *j) {
        return !j->finished_handled;
}

void scheduler_counts(Manager *m, unsigned *ret_running, unsigned *ret_queued) {
        unsigned running = 0, queued = 0;
        for (size_t i = 0; i < m->n_jobs; i++) {
                Job *j = m->jobs[i];
                if (!job_unfinished(j))
                        continue;
                if (j->admit_seq)
                        running++;
                else
                        queued++; /* validating counts as queued: it will want a slot */
        }
        *ret_running = running;
        *ret_queued = queued;
}

bool scheduler_has_room(Manager *m) {
        unsigned running, queued;
        scheduler_counts(m, &running, &queued);
        return running + queued < m->max_running + m->max_queue;
}

static OwnerTurn *owner_turn(Manager *m, const char *owner, bool create) {
        owner = strempty(owner);
        for (size_t i = 0; i < m->n_turns; i++)
                if (strcmp(m->turns[i].owner, owner) == 0)
                        return &m->turns[i];
        if (!create)
                return NULL;
        OwnerTurn *t = realloc(m->turns, (m->n_turns + 1) * sizeof(OwnerTurn));
        if (!t)
                return NULL;
        m->turns = t;
        t = &m->turns[m->n_turns];
        t->owner = strdup(owner);
        if (!t->owner)
                return NULL;
        t->last_admit = 0;
        m->n_turns++;
        return t;
}

void scheduler_forget_owner(Manager *m, const char *owner) {
        for (size_t i = 0; i < m->n_jobs; i++)
                if (job_unfinished(m->jobs[i]) && streq_ptr(strempty(m->jobs[i]->owner), strempty(owner)))
                        return;
        OwnerTurn *t = owner_turn(m, owner, false);
        if (!t)
                return;
        free(t->owner);
        *t = m->turns[--m->n_turns];
}

static uint64_t turn_of(Manager *m, const Job *j) {
        OwnerTurn *t = owner_turn(m, j->owner, false);
        return t ? t->last_admit : 0;
}

/* The queue in the order it will run: repeatedly the job (oldest first) of
 * the owner whose last turn is longest ago. Fills order[] with n jobs. */
static size_t queue_order(Manager *m, Job **order) {
        size_t n = 0;
        for (size_t i = 0; i < m->n_jobs; i++)
                if (m->jobs[i]->exported && job_is_queued(m->jobs[i]) && !m->jobs[i]->admit_seq)
                        order[n++] = m->jobs[i]; /* m->jobs is in id order */
        if (n == 0)
                return 0;

        /* Simulated turns: a copy per queued job of its owner's last turn. */
        _cleanup_free_ uint64_t *turn = calloc(n, sizeof(uint64_t));
        if (!turn)
                return n; /* plain FIFO */
        for (size_t i = 0; i < n; i++)
                turn[i] = turn_of(m, order[i]);
        uint64_t seq = m->admit_seq;
        for (size_t pos = 0; pos < n; pos++) {
                size_t best = pos;
                for (size_t i = pos + 1; i < n; i++)
                        if (turn[i] < turn[best])
                                best = i;
                /* Move best to pos, keeping the others in id order. */
                Job *bj = order[best];
                uint64_t bt = turn[best];
                memmove(order + pos + 1, order + pos, (best - pos) * sizeof(Job *));
                memmove(turn + pos + 1, turn + pos, (best - pos) * sizeof(uint64_t));
                order[pos] = bj;
                turn[pos] = bt;
                seq++;
                for (size_t i = pos + 1; i < n; i++)
                        if (streq_ptr(strempty(order[i]->owner), strempty(bj->owner)))
                                turn[i] = seq;
        }
        return n;
}

void scheduler_run(Manager *m) {
        if (m->n_jobs == 0)
                return;
        _cleanup_free_ Job **order = calloc(m->n_jobs, sizeof(Job *));
        if (!order)
                return;
        unsigned running, queued;
        scheduler_counts(m, &running, &queued);
        size_t n = queue_order(m, order), next = 0;

        for (; next < n && running < m->max_running; next++, running++) {
                Job *j = order[next];
                OwnerTurn *t = owner_turn(m, j->owner, true);
                j->admit_seq = ++m->admit_seq;
                if (t)
                        t->last_admit = j->admit_seq;
                log_debug("Job %" PRIu64 " admitted (%u running).", j->id, running + 1);
                job_admit(j);
        }
        for (size_t i = next; i < n; i++)
                job_set_queue_position(order[i], (uint32_t) (i - next + 1));
}
