/* The manifest store's database: opening (creating, migrating, setting a
 * damaged file aside), stat records and housekeeping. Manifests themselves
 * go in and out in store-manifest.c. */
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>

#include "common/run-dir.h"
#include "common/log.h"
#include "store-sql.h"
#include "store/store-internal.h"

/* The user_version schemas/store.sql sets. */
#define STORE_SCHEMA_VERSION 4
#define STORE_APPLICATION_ID 0x76646966 /* "vdif" */

/* migrations[v] takes a database of version v to v + 1 (see
 * schemas/store.sql); version 0 is an empty file, which gets store.sql. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
        [0] = NULL,
        [1] = "CREATE TABLE contents (id INTEGER PRIMARY KEY, sha256 BLOB UNIQUE NOT NULL, data BLOB NOT NULL, "
              "used_usec INTEGER NOT NULL);"
              "CREATE INDEX contents_used ON contents (used_usec);"
              "CREATE TABLE checksums (sha256 BLOB NOT NULL, algorithm TEXT NOT NULL, value TEXT NOT NULL, "
              "PRIMARY KEY (sha256, algorithm)) WITHOUT ROWID;",
        [2] = "CREATE TABLE packages (manifest_id INTEGER PRIMARY KEY REFERENCES manifests (id) ON DELETE CASCADE, "
              "format TEXT NOT NULL, n_packages INTEGER NOT NULL, data BLOB NOT NULL);",
        [3] = "CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, daemon TEXT NOT NULL, kind TEXT NOT NULL, "
              "owner BLOB, "
              "owner_uid INTEGER, detached INTEGER NOT NULL, created_usec INTEGER NOT NULL, state TEXT NOT NULL, "
              "differences INTEGER NOT NULL, error TEXT, error_message TEXT, finished_usec INTEGER, result BLOB, "
              "result_sha256 BLOB);"
              "CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_usec);"
              "INSERT OR IGNORE INTO counters (name, value) VALUES ('job_id', 0);",
};

#define STORE_N_TABLES 8
#define STORE_TABLES_SQL                                                                                   \
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "                             \
        "('manifests', 'manifest_disks', 'filesystems', 'trees', 'entries', 'stat_records', 'counters', 'jobs')"

static int store_attach(Store *s, Error *e);

Store *store_lock(Store *s) {
        (void) pthread_mutex_lock(&s->lock);
        if (s->db)
                return s;
        Error e = {0};
        uint64_t now = now_usec_monotonic();
        if (now >= s->retry_usec && store_attach(s, &e) >= 0) {
                log_info("Manifest store %s opened at last.", s->path);
                return s;
        }
        if (now >= s->retry_usec)
                s->retry_usec = now + s->retry_interval;
        (void) pthread_mutex_unlock(&s->lock);
        return NULL;
}

void store_unlockp(Store **s) {
        if (*s)
                (void) pthread_mutex_unlock(&(*s)->lock);
}

void store_rollbackp(sqlite3 **db) {
        if (*db && !sqlite3_get_autocommit(*db))
                (void) sqlite3_exec(*db, "ROLLBACK", NULL, NULL, NULL);
}

int store_errno(int rc) {
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        case SQLITE_TOOBIG:
                return -E2BIG;
        case SQLITE_CONSTRAINT:
        case SQLITE_MISMATCH:
        case SQLITE_RANGE:
        case SQLITE_MISUSE:
                return -EINVAL;
        default:
                return -EIO;
        }
}

int store_error(Store *s, int rc, const char *what, Error *e) {
        if ((rc & 0xff) == SQLITE_NOMEM)
                (void) error_set(e, ERR_INTERNAL, "out of memory");
        else
                (void) error_set(e, ERR_INTERNAL, "manifest store %s: %s: %s", s->path, what,
                                 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        return store_errno(rc) ?: -EIO;
}

int store_count(Store *s, const char *name) {
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc;

        rc = sqlite3_prepare_v2(s->db, "UPDATE counters SET value = value + 1 WHERE name = ?", -1, &q, NULL);
        rc = rc ?: sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(q);
        return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The first column of the first row, 0 when there is none. */
static int query_int(sqlite3 *db, const char *sql, int64_t *ret) {
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);

        if (rc != SQLITE_OK)
                return rc;
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return rc;
        *ret = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
        return SQLITE_OK;
}

typedef enum DbState {
        DB_EMPTY,
        DB_CURRENT,
        DB_OLDER,
        DB_NEWER,
        DB_FOREIGN,
} DbState;

/* Reads only: a database of someone else's must leave here unmodified. */
static int db_classify(sqlite3 *db, DbState *ret, int64_t *ret_version, const char **ret_reason) {
        int64_t app = 0, version = 0, n_objects = 0, n_ours = 0;
        int rc;

        rc = query_int(db, "PRAGMA application_id", &app);
        rc = rc ?: query_int(db, "PRAGMA user_version", &version);
        rc = rc ?: query_int(db, "SELECT count(*) FROM sqlite_schema", &n_objects);
        if (rc != SQLITE_OK)
                return rc;

        *ret_version = version;
        if (app == 0 && version == 0 && n_objects == 0)
                *ret = DB_EMPTY;
        else if (app != STORE_APPLICATION_ID) {
                *ret = DB_FOREIGN;
                *ret_reason = "an SQLite database of another program";
        } else if (version > STORE_SCHEMA_VERSION)
                *ret = DB_NEWER;
        else if (version < 1) {
                *ret = DB_FOREIGN;
                *ret_reason = "no schema version";
        } else if (version < STORE_SCHEMA_VERSION)
                *ret = DB_OLDER;
        else {
                rc = query_int(db, STORE_TABLES_SQL, &n_ours);
                if (rc != SQLITE_OK)
                        return rc;
                *ret = n_ours == STORE_N_TABLES ? DB_CURRENT : DB_FOREIGN;
                *ret_reason = "tables of its schema are missing";
        }
        return SQLITE_OK;
}

/* The full check on every open: it reads the whole file (about 2 ms a MB
 * when cached, measured), but quick_check would save only a few percent,
 * since the big tables have no index beside their own B-tree. */
static int db_check(sqlite3 *db, const char **ret_reason) {
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check(1)", -1, &q, NULL);

        if (rc == SQLITE_OK)
                rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
                return rc;
        if (!streq_ptr((const char *) sqlite3_column_text(q, 0), "ok"))
                *ret_reason = "its integrity check fails";
        return SQLITE_OK;
}

static bool rc_is_damage(int rc) {
        return (rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT;
}

/* Runs store.sql on an empty database, or the migrations on an older one,
 * in the write transaction the caller holds: two daemons opening one new
 * file at once cannot both create it. */
static int db_upgrade(Store *s, Error *e) {
        const char *reason = NULL;
        DbState state;
        int64_t version;
        int rc;

        rc = db_classify(s->db, &state, &version, &reason);
        if (rc != SQLITE_OK)
                return store_error(s, rc, "cannot read the schema", e);

        switch (state) {
        case DB_CURRENT:
                return 0;
        case DB_EMPTY:
                rc = sqlite3_exec(s->db, store_sql, NULL, NULL, NULL);
                break;
        case DB_OLDER:
                for (int64_t v = version; rc == SQLITE_OK && v < STORE_SCHEMA_VERSION; v++) {
                        char sql[64];
                        rc = sqlite3_exec(s->db, migrations[v], NULL, NULL, NULL);
                        (void) snprintf(sql, sizeof sql, "PRAGMA user_version = %" PRIi64, v + 1);
                        rc = rc ?: sqlite3_exec(s->db, sql, NULL, NULL, NULL);
                }
                break;
        default:
                (void) error_set(e, ERR_INTERNAL, "manifest store %s changed while it was opened", s->path);
                return -ESTALE;
        }
        if (rc != SQLITE_OK)
                return store_error(s, rc, "cannot create or migrate the schema", e);

        rc = query_int(s->db, "PRAGMA user_version", &version);
        if (rc != SQLITE_OK)
                return store_error(s, rc, "cannot read the schema", e);
        if (version != STORE_SCHEMA_VERSION) {
                (void) error_set(e, ERR_INTERNAL, "schemas/store.sql sets version %" PRIi64 ", this daemon expects %d",
                                 version, STORE_SCHEMA_VERSION);
                return -EINVAL;
        }
        return 0;
}

/* Opens s->path: 0 when ready, 1 (with a reason) when the file is not a
 * store of ours or is damaged and should be set aside. */
static int store_connect(Store *s, const char **ret_reason, Error *e) {
        _cleanup_rollback_ sqlite3 *txn = NULL;
        DbState state;
        int64_t version;
        int rc;

        rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             NULL);
        if (rc != SQLITE_OK) {
                int sys = s->db ? sqlite3_system_errno(s->db) : 0;
                (void) error_set(e, ERR_INTERNAL, "cannot open the manifest store %s: %s%s%s", s->path,
                                 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), sys ? ": " : "",
                                 sys ? strerror(sys) : "");
                (void) sqlite3_close(s->db);
                s->db = NULL;
                return store_errno(rc) ?: -EIO;
        }
        (void) sqlite3_extended_result_codes(s->db, 1);
        /* Another process's write (a daemon sharing the file importing a
         * million-entry manifest in one transaction) may hold the file for
         * seconds on a loaded machine: wait for it rather than fail. */
        (void) sqlite3_busy_timeout(s->db, 30000);
        /* SQLite opens a file it may not write read-only, silently: a
         * store that takes nothing, and holds the file. Not now, then. */
        if (sqlite3_db_readonly(s->db, "main") == 1) {
                (void) error_set(e, ERR_INTERNAL, "cannot open the manifest store %s for writing", s->path);
                return -EROFS;
        }

        rc = db_classify(s->db, &state, &version, ret_reason);
        if (rc_is_damage(rc)) {
                *ret_reason = (rc & 0xff) == SQLITE_NOTADB ? "not an SQLite database" : "a damaged SQLite database";
                return 1;
        }
        if (rc != SQLITE_OK)
                return store_error(s, rc, "cannot read", e);
        if (state == DB_FOREIGN)
                return 1;
        if (state == DB_NEWER) {
                (void) error_set(e, ERR_INTERNAL,
                                 "manifest store %s: database schema %" PRIi64 " is newer than this daemon's %d",
                                 s->path, version, STORE_SCHEMA_VERSION);
                return -EPROTONOSUPPORT;
        }

        if (state != DB_EMPTY) {
                *ret_reason = NULL;
                rc = db_check(s->db, ret_reason);
                if (rc_is_damage(rc))
                        *ret_reason = "a damaged SQLite database";
                else if (rc != SQLITE_OK)
                        return store_error(s, rc, "cannot check", e);
                if (*ret_reason)
                        return 1;
        }

        /* foreign_keys must be set outside a transaction; WAL lets loads
         * run while another process saves. */
        rc = sqlite3_exec(s->db,
                          "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
                          "PRAGMA journal_size_limit = 67108864;",
                          NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return store_error(s, rc, "cannot configure", e);

        if (state == DB_CURRENT)
                return 0;
        rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return store_error(s, rc, "cannot lock", e);
        txn = s->db;
        int r = db_upgrade(s, e);
        if (r < 0)
                return r;
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return store_error(s, rc, "cannot create or migrate the schema", e);
        return 0;
}

static int mkdir_parents(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        struct stat st;

        if (!p)
                return -ENOMEM;
        for (char *slash = strchr(p + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST && (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)))
                        return -errno ?: -ENOTDIR;
                *slash = '/';
        }
        return 0;
}

static int rename_noreplace(const char *from, const char *to) {
        if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) >= 0)
                return 0;
        if (errno != EINVAL)
                return -errno;
        /* A file system without RENAME_NOREPLACE: the window is small. */
        if (access(to, F_OK) >= 0)
                return -EEXIST;
        return rename(from, to) < 0 ? -errno : 0;
}

/* Moves the database and its -wal and -shm files to PATH.corrupt-TIME: the
 * log of the old file must not be replayed into the new one. */
static int set_aside(const char *path, const struct stat *opened, char **ret_aside) {
        struct stat st;
        long long now = (long long) time(NULL);

        /* Another daemon may have set it aside and made a fresh one
         * meanwhile: never move that one. */
        if (opened && (stat(path, &st) < 0 || st.st_dev != opened->st_dev || st.st_ino != opened->st_ino))
                return -ESTALE;

        for (unsigned i = 0; i < 100; i++) {
                _cleanup_free_ char *aside = NULL;
                int r = i == 0 ? asprintf(&aside, "%s.corrupt-%lld", path, now)
                               : asprintf(&aside, "%s.corrupt-%lld.%u", path, now, i);
                if (r < 0)
                        return -ENOMEM;
                r = rename_noreplace(path, aside);
                if (r == -EEXIST)
                        continue;
                if (r == -ENOENT)
                        return -ESTALE;
                if (r < 0)
                        return r;

                static const char *const suffixes[] = { "-wal", "-shm" };
                for (size_t j = 0; j < ELEMENTSOF(suffixes); j++) {
                        _cleanup_free_ char *from = NULL, *to = NULL;
                        if (asprintf(&from, "%s%s", path, suffixes[j]) < 0 ||
                            asprintf(&to, "%s%s", aside, suffixes[j]) < 0)
                                return -ENOMEM;
                        r = rename_noreplace(from, to);
                        if (r < 0 && r != -ENOENT && unlink(from) < 0 && errno != ENOENT)
                                return -errno;
                }
                *ret_aside = TAKE_PTR(aside);
                return 0;
        }
        return -EEXIST;
}

bool store_online(Store *s) {
        Store *locked = store_lock(s);
        store_unlockp(&locked);
        return locked != NULL;
}

static void store_closep(Store **s) {
        store_close(*s);
}

/* Opens s->path, creating, migrating or setting a damaged file aside: 0,
 * or < 0 with e set and no connection left open. */
static int store_attach(Store *s, Error *e) {
        const char *path = s->path;
        int r = mkdir_parents(path, 0700);
        if (r < 0) {
                (void) error_set(e, ERR_INTERNAL, "cannot create the directory of %s: %s", path, strerror(-r));
                return r;
        }

        /* A second round after setting a file aside; a third only when
         * another process replaced the file under us. */
        for (unsigned attempt = 0;; attempt++) {
                _cleanup_free_ char *aside = NULL;
                const char *reason = NULL;
                struct stat st;
                bool existed = stat(path, &st) >= 0;

                r = store_connect(s, &reason, e);
                if (r == 0)
                        return 0;
                (void) sqlite3_close(s->db);
                s->db = NULL;
                if (r < 0)
                        return r;
                if (attempt >= 2)
                        return error_set(e, ERR_INTERNAL, "manifest store %s: %s, even after setting it aside", path,
                                         reason);

                r = set_aside(path, existed ? &st : NULL, &aside);
                if (r == -ESTALE)
                        continue;
                if (r < 0)
                        return error_set(e, ERR_INTERNAL,
                                         "manifest store %s is unusable (%s) and cannot be moved aside: %s", path,
                                         reason, strerror(-r));
                log_error("Manifest store %s is unusable (%s): moved it to %s, starting a fresh one.", path, reason,
                          aside);
        }
}

int store_open(const char *path, uint64_t budget_bytes, Store **ret, Error *e) {
        _cleanup_(store_closep) Store *s = NULL;

        if (!path || !path[0] || !ret)
                return error_set(e, ERR_INVALID_ARGS, "no path for the manifest store");
        s = calloc(1, sizeof(Store));
        if (!s)
                return error_set(e, ERR_INTERNAL, "out of memory");
        (void) pthread_mutex_init(&s->lock, NULL);
        s->budget = budget_bytes;
        s->retry_interval = STORE_RETRY_USEC;
        s->path = strdup(path);
        if (!s->path)
                return error_set(e, ERR_INTERNAL, "out of memory");

        int r = store_attach(s, e);
        /* A newer schema stays newer; a read-only or full disk, a locked or
         * missing directory may not: opened again later, on use. */
        if (r == -EPROTONOSUPPORT || r == -ENOMEM)
                return r;
        if (r < 0)
                s->retry_usec = now_usec_monotonic() + s->retry_interval;
        *ret = TAKE_PTR(s);
        return r < 0 ? 1 : 0;
}

int store_open_temporary(Store **ret, Error *e) {
        /* Under the daemon's own directory, beside the appliances'
         * overlays: a daemon killed mid-scan leaves it to the next one's
         * sweep (run-dir.h). */
        const char *dir = run_dir();
        _cleanup_free_ char *path = NULL;
        Store *s = NULL;

        if (!dir)
                return error_set(e, ERR_INTERNAL, "cannot create a temporary manifest store: %m");
        if (asprintf(&path, "%s/virt-diffd-scan-XXXXXX", dir) < 0)
                return error_set(e, ERR_INTERNAL, "out of memory");
        int fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
                return error_set(e, ERR_INTERNAL, "cannot create a temporary manifest store in %s: %m", dir);
        (void) close(fd);
        if (store_open(path, UINT64_MAX, &s, e) < 0) {
                (void) unlink(path);
                return -1;
        }
        s->temporary = true;
        /* Nothing here outlives the process: no need to survive a crash. */
        (void) sqlite3_exec(s->db, "PRAGMA synchronous = OFF", NULL, NULL, NULL);
        *ret = s;
        return 0;
}

Store *store_close(Store *s) {
        if (!s)
                return NULL;
        (void) sqlite3_close(s->db);
        if (s->temporary) {
                _cleanup_free_ char *wal = NULL, *shm = NULL;
                (void) unlink(s->path);
                if (asprintf(&wal, "%s-wal", s->path) >= 0)
                        (void) unlink(wal);
                if (asprintf(&shm, "%s-shm", s->path) >= 0)
                        (void) unlink(shm);
        }
        (void) pthread_mutex_destroy(&s->lock);
        free(s->path);
        free(s);
        return NULL;
}

char *store_default_path(bool system) {
        const char *dir;
        char *p;

        if (system)
                return strdup("/var/cache/virt-diffd/manifests.sqlite");

        /* The XDG spec: a relative value is invalid and to be ignored. */
        dir = getenv("XDG_CACHE_HOME");
        if (dir && dir[0] == '/')
                return path_join(dir, "virt-diffd/manifests.sqlite");

        dir = getenv("HOME");
        if (!dir || dir[0] != '/') {
                struct passwd *pw = getpwuid(getuid());
                dir = pw ? pw->pw_dir : NULL;
        }
        if (!dir || dir[0] != '/')
                return NULL;
        if (asprintf(&p, "%s/.cache/virt-diffd/manifests.sqlite", strcmp(dir, "/") == 0 ? "" : dir) < 0)
                return NULL;
        return p;
}

int store_copy_blob(const void *data, size_t len, void **ret, size_t *ret_len) {
        char *copy = malloc(len + 1);
        if (!copy)
                return -ENOMEM;
        if (len)
                memcpy(copy, data, len);
        copy[len] = 0;
        *ret = copy;
        *ret_len = len;
        return 1;
}

int store_step_once(sqlite3_stmt *q) {
        int rc = sqlite3_step(q);

        (void) sqlite3_reset(q);
        return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}
