/* --key SELECTOR, --keys-from-stdin and --echo-keys, as libguestfs tools
 * take them, into the Compare call's "keys" and "ordered_keys". A key is
 * never printed: an error names its selector's ID and type only. */
#include "key-args.h"

#include <fcntl.h>
#include <termios.h>

#include "common/input-limits.h"
#include "options.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* /dev/mapper/VG-LV is /dev/VG/LV ("--" an escaped "-"), as libguestfs
 * names a logical volume; anything else is left as it is. */
static char *device_id(const char *id) {
        static const char mapper[] = "/dev/mapper/";
        if (strncmp(id, mapper, sizeof mapper - 1) != 0)
                return strdup(id);
        const char *vglv = id + sizeof mapper - 1, *sep = NULL;
        for (const char *p = vglv; *p; p++) {
                if (p[0] == '-' && p[1] == '-') {
                        p++;
                        continue;
                }
                if (*p == '-') {
                        if (sep || p == vglv || !p[1])
                                return strdup(id);
                        sep = p;
                }
        }
        if (!sep)
                return strdup(id);
        char *r = malloc(strlen(id) + 1), *o = r;
        if (!r)
                return NULL;
        o = stpcpy(o, "/dev/");
        for (const char *p = vglv; *p; p++) {
                *o++ = p == sep ? '/' : *p;
                if (p != sep && p[0] == '-' && p[1] == '-')
                        p++;
        }
        *o = 0;
        return r;
}

static int read_key_file(const char *prog, const char *id, const char *path, KeyList *l, const char *selector) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        uint8_t buf[MAX_KEY_LENGTH + 1];
        size_t len = 0;
        ssize_t n;

        if (fd < 0) {
                fprintf(stderr, "%s: --key '%s:file:%s': cannot read it: %m\n", prog, id, path);
                return -EINVAL;
        }
        while (len < sizeof buf && (n = read(fd, buf + len, sizeof buf - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        fprintf(stderr, "%s: --key '%s:file:%s': cannot read it: %m\n", prog, id, path);
                        return -EINVAL;
                }
                len += (size_t) n;
        }
        int r = 0;
        if (len == 0 || len > MAX_KEY_LENGTH || memchr(buf, 0, len)) {
                fprintf(stderr, "%s: --key '%s:file:%s': a key file holds 1 to %d bytes, none of them NUL\n", prog, id,
                        path, MAX_KEY_LENGTH);
                r = -EINVAL;
        } else if (key_list_add(l, selector, buf, len) < 0)
                r = -ENOMEM;
        explicit_bzero(buf, sizeof buf);
        return r;
}

int key_args_add(DiffArgs *a, const char *prog, const char *arg) {
        /* ID:key:KEY_STRING, ID:file:FILENAME or ID:clevis, split at every
         * ':' as libguestfs splits them. */
        const char *c1 = strchr(arg, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        const char *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
        _cleanup_free_ char *id = c1 ? strndup(arg, (size_t) (c1 - arg)) : strdup(arg);
        _cleanup_free_ char *type = c1 ? strndup(c1 + 1, c2 ? (size_t) (c2 - c1 - 1) : strlen(c1 + 1)) : NULL;
        _cleanup_free_ char *selector = NULL;

        if (!id || (c1 && !type))
                return -ENOMEM;
        if (!id[0] || !c1) {
                fprintf(stderr, "%s: --key '%s...': missing %s (ID:key:PASSPHRASE, ID:file:FILE; ID a device, a "
                                "UUID or all)\n", prog, id, id[0] ? "TYPE" : "ID");
                return -EINVAL;
        }
        if (!(selector = device_id(id)))
                return -ENOMEM;
        if (streq_ptr(type, "clevis")) {
                fprintf(stderr, "%s: --key '%s:clevis': network-bound unlocking (Clevis) is not supported\n", prog, id);
                return -EINVAL;
        }
        if (!streq_ptr(type, "key") && !streq_ptr(type, "file")) {
                fprintf(stderr, "%s: --key '%s:%s...': invalid TYPE (key, file)\n", prog, id, type);
                return -EINVAL;
        }
        if (!c2 || c3 || !c2[1]) {
                fprintf(stderr, "%s: --key '%s:%s:...': missing %s, or too many fields\n", prog, id, type,
                        streq_ptr(type, "key") ? "KEY_STRING" : "FILENAME");
                return -EINVAL;
        }
        if (a->keys.n >= MAX_KEYS) {
                fprintf(stderr, "%s: more than %d --key options\n", prog, MAX_KEYS);
                return -EINVAL;
        }
        if (streq_ptr(type, "file"))
                return read_key_file(prog, id, c2 + 1, &a->keys, selector);
        if (strlen(c2 + 1) > MAX_KEY_LENGTH) {
                fprintf(stderr, "%s: --key '%s:key:...': a key is at most %d bytes\n", prog, id, MAX_KEY_LENGTH);
                return -EINVAL;
        }
        return key_list_add(&a->keys, selector, c2 + 1, strlen(c2 + 1));
}

int key_args_read_stdin(DiffArgs *a, const char *prog) {
        struct termios old, quiet;
        bool tty = isatty(STDIN_FILENO), restore = false;
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        ssize_t n;
        int r = 0;

        if (tty) {
                fprintf(stderr, "Enter one key or passphrase a line for the encrypted volumes, the first guest's "
                                "first; end with Ctrl-D:\n");
                if (!a->echo_keys && tcgetattr(STDIN_FILENO, &old) == 0) {
                        quiet = old;
                        quiet.c_lflag &= ~(tcflag_t) ECHO;
                        restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
                }
        }
        for (size_t no = 1; r >= 0 && (n = getline(&line, &size, stdin)) >= 0; no++) {
                if (n > 0 && line[n - 1] == '\n')
                        line[--n] = 0;
                if (a->ordered_keys.n >= MAX_KEYS || n == 0 || (size_t) n > MAX_KEY_LENGTH ||
                    strlen(line) != (size_t) n) {
                        fprintf(stderr, "%s: --keys-from-stdin: line %zu: %s\n", prog, no,
                                a->ordered_keys.n >= MAX_KEYS ? "more keys than " STR(MAX_KEYS)
                                : n == 0                      ? "an empty key"
                                                              : "a key is 1 to " STR(MAX_KEY_LENGTH)
                                                                " bytes, none of them NUL");
                        r = -EINVAL;
                } else if (key_list_add(&a->ordered_keys, NULL, line, (size_t) n) < 0)
                        r = -ENOMEM;
                explicit_bzero(line, size);
        }
        if (restore)
                (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        return r;
}

static int append_list(sd_bus_message *m, const char *option, const KeyList *l) {
        bool ordered = streq_ptr(option, "ordered_keys");
        int r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", option);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', ordered ? "aay" : "a(say)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', ordered ? "ay" : "(say)");
        for (size_t i = 0; r >= 0 && i < l->n; i++) {
                if (!ordered)
                        r = sd_bus_message_open_container(m, 'r', "say");
                if (r >= 0 && !ordered)
                        r = sd_bus_message_append(m, "s", l->keys[i].selector);
                if (r >= 0)
                        r = sd_bus_message_append_array(m, 'y', l->keys[i].bytes, l->keys[i].len);
                if (r >= 0 && !ordered)
                        r = sd_bus_message_close_container(m);
        }
        for (int i = 0; r >= 0 && i < 3; i++)
                r = sd_bus_message_close_container(m);
        return r;
}

int key_args_append(sd_bus_message *m, const DiffArgs *a) {
        int r = 0;
        if (a->keys.n)
                r = append_list(m, "keys", &a->keys);
        if (r >= 0 && a->ordered_keys.n)
                r = append_list(m, "ordered_keys", &a->ordered_keys);
        return r;
}
