/* Reading a job's change stream (D-Bus Job.OpenChanges, or varlink's
 * "changes": a head line, a line per change, an end line) as it grows, and printing its changes as
 * they come in the formats that can (output_stream_fits()). */
#pragma once

#include <json-c/json.h>
#include <stdio.h>

#include "output/output.h"

typedef struct ChangeStream {
        int fd;           /* -1: no stream */
        char *buf;        /* what was read but is not a whole line yet */
        size_t len, size;
        uint64_t consumed; /* bytes read from fd */
        json_object *head; /* the last head; with the end's members once ended */
        bool decided;      /* the first head said whether to print */
        bool printing;     /* printing the changes as they come */
        bool ended;        /* the end line was read */
        int failed;        /* a negative errno once reading failed */
        /* Called on each head before it prints (names images as given). */
        void (*prepare)(json_object *head, void *userdata);
        void *userdata;
        const char *prog;
} ChangeStream;

/* Whether fd holds bytes not read yet. */
bool change_stream_pending(const ChangeStream *s);
/* Reads what the stream holds now and handles its whole lines, printing
 * to out as o asks: 0, or a negative errno (-EBADMSG: a line not ours). */
int change_stream_read(ChangeStream *s, FILE *out, const OutputOptions *o);
/* The same for bytes of the stream that came another way (varlink's
 * "changes"); s->fd stays -1. */
int change_stream_feed(ChangeStream *s, const char *data, size_t len, FILE *out, const OutputOptions *o);
void change_stream_done(ChangeStream *s);
