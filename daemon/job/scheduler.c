#include "job/scheduler.h"

#include "common/log.h"

/* Who takes turns: a uid when the caller's creds are known (the system
 * bus, where one user may open many connections), else the submitter. */
typedef struct TurnKey {
        char s[32];
} TurnKey;

static const char *turn_key(const Job *j, TurnKey *k) {
        if (j->caller) {
                snprintf(k->s, sizeof k->s, "uid:%u", (unsigned) j->caller->uid);
                return k->s;
        }
        return strempty(j->owner);
}

static bool same_turn(const Job *a, const Job *b) {
        TurnKey ka, kb;
        return streq_ptr(turn_key(a, &ka), turn_key(b, &kb));
}

/* When an owner's job was last admitted: the round robin. */
typedef struct OwnerTurn {
        char *owner;
        uint64_t last_admit;
} OwnerTurn;

struct Scheduler {
        SchedulerLimits limits;
        Job **jobs; /* unfinished, in submission (id) order */
        size_t n_jobs;
        uint64_t admit_seq;
        OwnerTurn *turns;
        size_t n_turns;
};

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

int scheduler_new(const SchedulerLimits *limits, Scheduler **ret) {
        Scheduler *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->limits = *limits;
        *ret = s;
        return 0;
}

Scheduler *scheduler_free(Scheduler *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_turns; i++)
                free(s->turns[i].owner);
        free(s->turns);
        free(s->jobs);
        free(s);
        return NULL;
}

SchedulerLimits *scheduler_limits(Scheduler *s) {
        return &s->limits;
}

void scheduler_counts(Scheduler *s, unsigned *ret_running, unsigned *ret_queued) {
        unsigned running = 0, queued = 0;
        for (size_t i = 0; i < s->n_jobs; i++) {
                if (s->jobs[i]->admit_seq)
                        running++;
                else
                        queued++;
        }
        *ret_running = running;
        *ret_queued = queued;
}

bool scheduler_has_room(Scheduler *s) {
        return s->n_jobs < (size_t) s->limits.max_running + s->limits.max_queue;
}

unsigned scheduler_count_caller(Scheduler *s, const char *owner, const CallerCreds *caller) {
        unsigned n = 0;
        for (size_t i = 0; i < s->n_jobs; i++) {
                const Job *j = s->jobs[i];
                if (caller ? j->caller && j->caller->uid == caller->uid : streq_ptr(j->owner, owner))
                        n++;
        }
        return n;
}

int scheduler_add(Scheduler *s, Job *j) {
        Job **l = realloc(s->jobs, (s->n_jobs + 1) * sizeof(Job *));
        if (!l)
                return -ENOMEM;
        s->jobs = l;
        s->jobs[s->n_jobs++] = j;
        return 0;
}

static OwnerTurn *owner_turn(Scheduler *s, const Job *j, bool create) {
        TurnKey k;
        const char *owner = turn_key(j, &k);
        for (size_t i = 0; i < s->n_turns; i++)
                if (strcmp(s->turns[i].owner, owner) == 0)
                        return &s->turns[i];
        if (!create)
                return NULL;
        OwnerTurn *t = realloc(s->turns, (s->n_turns + 1) * sizeof(OwnerTurn));
        if (!t)
                return NULL;
        s->turns = t;
        t = &s->turns[s->n_turns];
        t->owner = strdup(owner);
        if (!t->owner)
                return NULL;
        t->last_admit = 0;
        s->n_turns++;
        return t;
}

void scheduler_remove(Scheduler *s, Job *j) {
        bool found = false;
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i] == j) {
                        memmove(s->jobs + i, s->jobs + i + 1, (s->n_jobs - i - 1) * sizeof(Job *));
                        s->n_jobs--;
                        found = true;
                        break;
                }
        if (!found)
                return;
        for (size_t i = 0; i < s->n_jobs; i++)
                if (same_turn(s->jobs[i], j))
                        return;
        OwnerTurn *t = owner_turn(s, j, false);
        if (!t)
                return;
        free(t->owner);
        *t = s->turns[--s->n_turns];
}

static uint64_t turn_of(Scheduler *s, const Job *j) {
        OwnerTurn *t = owner_turn(s, j, false);
        return t ? t->last_admit : 0;
}

/* The queue in the order it will run: repeatedly the job (oldest first) of
 * the owner whose last turn is longest ago. Fills order[] with n jobs. */
static size_t queue_order(Scheduler *s, Job **order) {
        size_t n = 0;
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i]->listed && job_is_queued(s->jobs[i]) && !s->jobs[i]->admit_seq)
                        order[n++] = s->jobs[i];
        if (n == 0)
                return 0;

        /* Simulated turns: a copy per queued job of its owner's last turn. */
        _cleanup_free_ uint64_t *turn = calloc(n, sizeof(uint64_t));
        if (!turn)
                return n; /* plain FIFO */
        for (size_t i = 0; i < n; i++)
                turn[i] = turn_of(s, order[i]);
        uint64_t seq = s->admit_seq;
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
                        if (same_turn(order[i], bj))
                                turn[i] = seq;
        }
        return n;
}

void scheduler_run(Scheduler *s) {
        if (s->n_jobs == 0)
                return;
        _cleanup_free_ Job **order = calloc(s->n_jobs, sizeof(Job *));
        if (!order)
                return;
        unsigned running, queued;
        scheduler_counts(s, &running, &queued);
        size_t n = queue_order(s, order), next = 0;

        for (; next < n && running < s->limits.max_running; next++, running++) {
                Job *j = order[next];
                OwnerTurn *t = owner_turn(s, j, true);
                j->admit_seq = ++s->admit_seq;
                if (t)
                        t->last_admit = j->admit_seq;
                log_debug("Job %" PRIu64 " admitted (%u running).", j->id, running + 1);
                job_admit(j);
        }
        for (size_t i = next; i < n; i++)
                job_set_queue_position(order[i], (uint32_t) (i - next + 1));
}
