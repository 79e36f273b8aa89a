-- The manifest store of virt-diffd (daemon/store/store.c): every manifest the
-- daemon scanned, keyed by the content key of the side it describes, and
-- the stat records that spare re-hashing an untouched image.
--
-- Versions. PRAGMA user_version is the schema version and PRAGMA
-- application_id (0x76646966, "vdif") marks the file as ours. This file is
-- always the whole current schema; the daemon runs it, in one transaction,
-- on an empty database only. To change the schema: edit this file, raise
-- user_version below and STORE_SCHEMA_VERSION in daemon/store/store.c together,
-- and append to migrations[] in daemon/store/store.c the statements that take a
-- database of the previous version to the new one. On open, an older
-- database runs every step from its version on, all in one transaction
-- (each step followed by its user_version); a newer one is refused and left
-- untouched, so that a downgraded daemon cannot damage it. The store is a
-- cache: dropping and recreating a table is a valid step.
--
-- Encoding. Byte strings (paths, symlink targets, labels, devices, tree
-- keys) are BLOBs: they need not be UTF-8 and come back byte for byte.
-- Unsigned 64-bit numbers are stored as the signed value with the same
-- bits. entries.kind is entry_kind_to_string() (not the enum's number, which
-- may be reordered). entries.xattrs is NULL when there are none, else for
-- each xattr in name order: name length (4 bytes, little endian), name,
-- value length (4 bytes, little endian), value. What is read back is
-- checked; a manifest that fails a check is dropped and counts as a miss.

PRAGMA application_id = 1986292070;
PRAGMA user_version = 3;

CREATE TABLE manifests (
        id INTEGER PRIMARY KEY,
        key BLOB UNIQUE NOT NULL,        -- the side's content key, 32 bytes
        label BLOB,                      -- its disks' paths, ", "-separated
        inspected INTEGER NOT NULL,
        os_product BLOB,
        created_usec INTEGER NOT NULL,   -- CLOCK_REALTIME
        used_usec INTEGER NOT NULL,      -- last saved or loaded: the LRU order
        n_entries INTEGER NOT NULL,      -- rows in entries, checked on load
        bytes INTEGER NOT NULL           -- approximate size of all its rows
);
CREATE INDEX manifests_used ON manifests (used_usec);

CREATE TABLE manifest_disks (
        manifest_id INTEGER NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        path BLOB NOT NULL,
        disk_key BLOB NOT NULL,          -- the disk's own content key
        PRIMARY KEY (manifest_id, position)
) WITHOUT ROWID;
CREATE INDEX manifest_disks_key ON manifest_disks (disk_key);

CREATE TABLE filesystems (
        manifest_id INTEGER NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,            -- Manifest.filesystems[idx], from 0
        device BLOB NOT NULL,
        type BLOB NOT NULL,
        uuid BLOB,
        label BLOB,
        size INTEGER NOT NULL,
        mountpoint BLOB,
        scanned INTEGER NOT NULL,
        error BLOB,
        PRIMARY KEY (manifest_id, idx)
) WITHOUT ROWID;

CREATE TABLE trees (
        manifest_id INTEGER NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,            -- Manifest.trees[idx], from 0, in key order
        key BLOB NOT NULL,
        n_entries INTEGER NOT NULL,
        PRIMARY KEY (manifest_id, idx)
) WITHOUT ROWID;

-- One row per entry, in the tree's path_compare() order (seq), so that
-- reading by primary key gives the sorted arrays the comparer merges.
CREATE TABLE entries (
        manifest_id INTEGER NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
        tree_idx INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        path BLOB NOT NULL,
        fs INTEGER NOT NULL,             -- index into the manifest's filesystems
        kind TEXT NOT NULL,
        mode INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        gid INTEGER NOT NULL,
        size INTEGER NOT NULL,
        atime_ns INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        ctime_ns INTEGER NOT NULL,
        nlink INTEGER NOT NULL,
        ino INTEGER NOT NULL,
        dev INTEGER NOT NULL,
        rdev INTEGER NOT NULL,
        blocks INTEGER NOT NULL,
        blksize INTEGER NOT NULL,
        target BLOB,
        sha256 BLOB,
        xattrs BLOB,
        PRIMARY KEY (manifest_id, tree_idx, seq)
) WITHOUT ROWID;

-- What an image file's content key was when it had this stat.
CREATE TABLE stat_records (
        path BLOB PRIMARY KEY,
        dev INTEGER NOT NULL,
        ino INTEGER NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        ctime_ns INTEGER NOT NULL,
        key BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('hits', 0), ('misses', 0);

-- Version 2: what content diffs (virt-diff -u) and other checksums
-- (--checksum=md5, ...) need, keyed by a file's SHA-256 so that it is
-- shared by every manifest, image and path with that content, and so that
-- a diff against a cached reference needs no appliance. Only small files
-- are kept, and contents are evicted least recently used first beyond
-- their own budget (daemon/store/store-content.c).
CREATE TABLE contents (
        id INTEGER PRIMARY KEY,
        sha256 BLOB UNIQUE NOT NULL,     -- of data, checked on load
        data BLOB NOT NULL,
        used_usec INTEGER NOT NULL
);
CREATE INDEX contents_used ON contents (used_usec);

CREATE TABLE checksums (
        sha256 BLOB NOT NULL,            -- the content's SHA-256
        algorithm TEXT NOT NULL,         -- md5, sha1, ... as guestfs_checksum names them
        value TEXT NOT NULL,
        PRIMARY KEY (sha256, algorithm)
) WITHOUT ROWID;

-- Version 3: a side's installed packages and the index of the files they
-- own (daemon/packages/), beside its manifest, so that a diff with
-- --packages or --explain against a cached side needs no appliance. data
-- is the package set in its wire form (daemon/packages/packages-wire.c),
-- decoded as hostile on load like a worker's; a row that fails is dropped
-- and counts as a miss. A manifest scanned without its packages has no row.
CREATE TABLE packages (
        manifest_id INTEGER PRIMARY KEY REFERENCES manifests (id) ON DELETE CASCADE,
        format TEXT NOT NULL,            -- package_format_to_string(): none, dpkg, rpm
        n_packages INTEGER NOT NULL,
        data BLOB NOT NULL
);
