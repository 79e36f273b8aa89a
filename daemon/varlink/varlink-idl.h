/* Varlink interface definitions (varlink.org, "Interface Definition"):
 * parsed from the .varlink text the daemon serves, and the types that
 * check a call's parameters and our own replies against it. The text is
 * ours (embedded at build time); the JSON checked against it is not. */
#pragma once

#include <json-c/json.h>

#include "common/errors.h"

typedef enum VarlinkTypeKind {
        VARLINK_TYPE_BOOL,
        VARLINK_TYPE_INT,
        VARLINK_TYPE_FLOAT,
        VARLINK_TYPE_STRING,
        VARLINK_TYPE_OBJECT, /* "object": any JSON object, not checked */
        VARLINK_TYPE_STRUCT,
        VARLINK_TYPE_ENUM,
        VARLINK_TYPE_NAMED,  /* a type defined with "type" */
        VARLINK_TYPE_ARRAY,
        VARLINK_TYPE_MAP,    /* [string]T */
} VarlinkTypeKind;

typedef struct VarlinkType VarlinkType;
typedef struct VarlinkSymbol VarlinkSymbol;

typedef struct VarlinkField {
        char *name;
        VarlinkType *type; /* NULL for an enum's names */
} VarlinkField;

struct VarlinkType {
        VarlinkTypeKind kind;
        bool nullable;
        VarlinkType *element;           /* ARRAY, MAP */
        VarlinkField *fields;           /* STRUCT, ENUM */
        size_t n_fields;
        char *name;                     /* NAMED */
        const VarlinkSymbol *resolved;  /* NAMED: its definition */
};

typedef enum VarlinkSymbolKind {
        VARLINK_SYMBOL_TYPE,
        VARLINK_SYMBOL_METHOD,
        VARLINK_SYMBOL_ERROR,
} VarlinkSymbolKind;

struct VarlinkSymbol {
        VarlinkSymbolKind kind;
        char *name;
        VarlinkType *type;   /* TYPE: a struct or an enum; ERROR: its parameters */
        VarlinkType *input;  /* METHOD */
        VarlinkType *output; /* METHOD */
};

typedef struct VarlinkInterface {
        char *name;
        VarlinkSymbol *symbols;
        size_t n_symbols;
        const char *text; /* what it was parsed from; not owned */
} VarlinkInterface;

/* Parses text, which must outlive the result. A mistake is an
 * InvalidArgs error naming its line and column. */
int varlink_interface_parse(const char *text, VarlinkInterface **ret, Error *e);
VarlinkInterface *varlink_interface_free(VarlinkInterface *iface);
static inline void varlink_interface_freep(VarlinkInterface **i) {
        varlink_interface_free(*i);
}
#define _cleanup_varlink_interface_ _cleanup_(varlink_interface_freep)

const VarlinkSymbol *varlink_interface_find(const VarlinkInterface *iface, VarlinkSymbolKind kind,
                                            const char *name);

bool varlink_interface_name_is_valid(const char *name);

/* The longest path to a bad value reported, "a[3].path". */
#define VARLINK_FIELD_PATH_MAX 256

/* Checks parameters (an object, or NULL for none) against a struct type:
 * every field of the right type, those not nullable present, nothing
 * else. 0, or -EINVAL with the path of the first bad field in bad. */
int varlink_validate(const VarlinkType *type, json_object *parameters, char bad[VARLINK_FIELD_PATH_MAX]);
