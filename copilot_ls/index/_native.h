/* Shared by the native extraction module's files (see _native.c):
 *   _native.c         extraction: a file's definitions, scopes and imports, and the result
 *   _native_nodes.c   reading the tree around a definition; query predicates
 *   _native_text.c    text rules: signatures, references, blank lines
 *   _native_settle.c  one definition per name, containers, chunk starts
 *   _native_module.c  the Extractor type and the module */
#ifndef COPILOT_LS_NATIVE_H
#define COPILOT_LS_NATIVE_H
#define PY_SSIZE_T_CLEAN
#undef _POSIX_C_SOURCE /* set for the runtime by setup.py, and by Python.h its own way */
#include <Python.h>
#include <stdint.h>
#include <tree_sitter/api.h>

enum { F_WRAPPER = 1, F_SKIP = 2, F_COMMENT = 4, F_BODY = 8 };
enum { R_IMPORTS = 1, R_STRIP_BRACE = 2, R_DEFINES = 4 };
enum { P_EQ, P_MATCH, P_ANY_OF };
#define NONE UINT32_MAX /* no such capture */

typedef struct {
    int op, positive;
    uint32_t capture;
    PyObject *value; /* bytes (eq), a compiled pattern (match) or a tuple of bytes (any-of) */
} Predicate;

typedef struct {
    PyObject_HEAD
    TSParser *parser;
    TSQuery *query;
    TSQueryCursor *cursor;
    PyObject *capsule;
    PyTypeObject *span_type;       /* NULL: spans are plain tuples */
    PyTypeObject *definition_type; /* NULL: definitions are plain tuples */
    PyObject **kind_names;         /* per pattern: its definitions' kind (interned), or NULL */
    unsigned *kind_classes;        /* per pattern: K_* of that kind */
    unsigned char *flags;
    uint32_t flag_count;
    unsigned char *roles;
    unsigned char *is_definition; /* per capture id */
    Predicate **predicates;       /* per pattern, NULL-free arrays of `predicate_counts` */
    uint32_t *predicate_counts;
    uint32_t pattern_count;
    TSFieldId body_field;
    int max_depth;
    uint32_t c_name, c_doc, c_container, c_scope, c_scope_name, c_import, c_package, c_member;
} Extractor;


/* ---- _native_nodes.c ------------------------------------------------------------------------ */

/* The node with its wrappers (decorators, `export`); in a group only the first member takes
 * the group's. */
TSNode outer_node(Extractor *self, TSNode node);
/* The comment block ending on the line above `node` (which starts on `next_row`): its
 * comments' texts, in order, as a tuple; `*first_row` is its first line, or -1. */
PyObject *comment_above(Extractor *self, TSNode node, long next_row, long *first_row,
                        const char *source);
/* The definition's body: its `body` field, else its first child of a body kind. */
TSNode body_of(Extractor *self, TSNode node);
/* qsort's order of (start, end) pairs. */
int compare_pairs(const void *a, const void *b);
/* The signature of the definition whose head node is `head` (see `native_signature`): a str,
 * or the comment cuts (a tuple) for Python to compute it with. */
PyObject *signature(Extractor *self, const char *source, TSNode head, long body_start,
                    int strip_brace);
/* Whether `match` satisfies its pattern's predicates, as py-tree-sitter decides: 1, 0, or -1
 * with an exception set. */
int satisfies(Extractor *self, const TSQueryMatch *match, const char *source);

static inline uint32_t code_points(const char *source, uint32_t end, uint32_t columns,
                                   int ascii) {
    /* A column in code points, from one in bytes (the source is valid UTF-8). */
    if (ascii) return columns;
    uint32_t count = 0;
    for (const char *c = source + end - columns; c < source + end; c++)
        count += ((unsigned char)*c & 0xC0) != 0x80;
    return count;
}

/* ---- _native.c, for _native_module.c -------------------------------------------------------- */

extern PyObject *s_function, *s_method, *s_constant, *s_variable;
PyObject *extractor_extract(Extractor *self, PyObject *args);
PyObject *extractor_parse(Extractor *self, PyObject *args);

/* `definition_text.signature_text` over the head [start, end) of a definition whose body
 * starts at `body_start` (-1: none), with `cuts` (sorted (start, end) pairs, `cut_count` of
 * them) left out of a head spanning lines. A new str; NULL with no exception set when the head
 * holds non-ASCII text, which Python's rules for (Unicode whitespace) then handle. */
PyObject *native_signature(const char *source, uint32_t start, uint32_t end, long body_start,
                           int strip_brace, const uint32_t *cuts, size_t cut_count);

/* Whether `definition_text.signature_text` would cut comments out of the head
 * [start, body_start): it spans lines and holds something that starts a comment. */
int native_head_needs_cuts(const char *source, uint32_t start, long body_start);

/* `definitions.references`: the identifier-like words of `source` outside the `ranges`
 * (sorted (start, end) pairs of definition names), each once, joined by newlines, as bytes. */
PyObject *native_references(const char *source, size_t length, const uint32_t *ranges,
                            size_t range_count);

/* The numbers of `source`'s blank lines (empty, or whitespace as str.isspace() sees it), in
 * order, as a list; `*line_count` is its number of lines (split at "\n"). */
PyObject *native_blank_lines(const char *source, size_t length, Py_ssize_t *line_count);

/* ---- settling (_native_settle.c): `definitions.settle` and `top_level_starts` ---------- */

enum { /* what a kind is, as `definitions.py` tells kinds apart */
    K_CLASS_LIKE = 1, /* class struct interface trait enum impl */
    K_MODULE = 2,
    K_FUNCTION = 4,
    K_METHOD = 8,
    K_SMALL = 16, /* variable constant field: never a chunk's start */
    K_ASSIGNMENT = 32,
};

typedef struct {
    uint32_t pattern, name_start, start_byte, end_byte;
    long block_line;
    unsigned kind;       /* K_* of its kind now */
    PyObject *kind_name; /* borrowed: an interned str */
    /* Owned. container: NULL or empty for none; doc: NULL for none, a str (a docstring as
     * written) or a tuple of str (the comments above); signature: a str, or (head start, head
     * end, body start, comment cuts) for Python to compute. */
    PyObject *name, *span, *signature, *doc, *container;
} Def;

typedef struct {
    uint32_t start_byte, end_byte;
    long line;
    PyObject *name; /* owned */
} ScopeRec;

/* Settles `defs` (in match order) as `definitions.settle` does: one per name start (the
 * lowest pattern's, the first found among equals), ordered by start byte into `order` (indices
 * into `defs`, `*count` of them), containers named and kinds made function or method with
 * `function` and `method` (borrowed); and the blocks' first lines, as `top_level_starts` and
 * chunking's nested starts want them, as two new lists. 0, or -1 with an exception set. */
int native_settle(Def *defs, size_t def_count, const ScopeRec *scopes, size_t scope_count,
                  PyObject *function, PyObject *method, size_t *order, size_t *count,
                  PyObject **starts, PyObject **lines);

#endif
