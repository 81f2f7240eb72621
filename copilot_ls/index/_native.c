/* Index stage, native half: parse a file and run its outline query with a tree-sitter runtime
 * of our own, and read every node property extraction needs in C, handing Python plain ints.
 *
 * `extract.py` does the same from Python through py-tree-sitter, where each node property read
 * costs about half a microsecond; over a workspace those reads cost half as much as the parse
 * itself. Here they cost nothing next to it. The grammars are the same PyPI wheels: their
 * language pointer (a capsule) is all this module needs from them. What is read, and how, is
 * `extract.py`'s and `definition_text.py`'s logic, which `tests/unit/test_native_extract.py`
 * holds this module to: both paths must index every sample file and the standard library to
 * the same symbols.
 *
 * Extractor(language, query, roles, flags, body_field, max_depth)
 *   language  the grammar's capsule (`tree_sitter_python.language()`)
 *   query     the outline query's source (tags and imports), UTF-8 bytes
 *   roles     one byte per pattern: 1 an imports pattern, 2 its definitions' signatures lose a
 *             trailing `{`, 4 it captures a definition (a tags pattern of a kind)
 *   flags     one byte per node kind id: 1 wrapper, 2 may stand between a doc comment and its
 *             definition, 4 comment, 8 body
 *   body_field  the grammar's `body` field id, 0 for none
 *   max_depth   deepest start of a match, -1 for no limit
 *   span        optional: the tuple type of definitions' spans (`model.Span`)
 * Extractor.extract(source) -> (definitions, scopes, imports, members, references, line count,
 *   blank lines), see `extractor_extract`.
 * Extractor.parse(source) -> None: parse only (for benchmarks).
 * It holds the GIL throughout (see `parse`); `native.py` keeps one Extractor per thread.
 */
#include "_native.h"

#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

enum { F_WRAPPER = 1, F_SKIP = 2, F_COMMENT = 4, F_BODY = 8 };
enum { R_IMPORTS = 1, R_STRIP_BRACE = 2, R_DEFINES = 4 };
enum { P_EQ, P_MATCH, P_ANY_OF };
#define NONE UINT32_MAX

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
    PyTypeObject *span_type; /* NULL: spans are plain tuples */
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

static inline unsigned flag(Extractor *self, TSNode node) {
    TSSymbol symbol = ts_node_symbol(node);
    return symbol < self->flag_count ? self->flags[symbol] : 0;
}

static inline long end_row(TSNode node) {
    /* The last line `node` covers (a Rust line comment ends at column 0 of the next one). */
    TSPoint end = ts_node_end_point(node);
    return (end.column == 0 && end.row > ts_node_start_point(node).row) ? (long)end.row - 1
                                                                         : (long)end.row;
}

static TSNode outer_node(Extractor *self, TSNode node) {
    /* The node with its wrappers; in a group only the first member takes the group's. */
    TSNode parent = ts_node_parent(node);
    while (!ts_node_is_null(parent) && (flag(self, parent) & F_WRAPPER)) {
        TSNode before = ts_node_prev_named_sibling(node);
        if (!ts_node_is_null(before) && ts_node_symbol(before) == ts_node_symbol(node)) break;
        node = parent;
        parent = ts_node_parent(parent);
    }
    return node;
}

/* The comment block ending on the line above `node` (which starts on `next_row`): its nodes'
 * byte ranges, in order, flattened into a tuple; `*first_row` is its first line, or -1. */
static PyObject *comment_above(Extractor *self, TSNode node, long next_row, long *first_row) {
    PyObject *ranges = PyList_New(0);
    if (ranges == NULL) return NULL;
    *first_row = -1;
    TSNode sibling = ts_node_prev_named_sibling(node);
    while (!ts_node_is_null(sibling) && (flag(self, sibling) & F_SKIP)) {
        next_row = ts_node_start_point(sibling).row;
        sibling = ts_node_prev_named_sibling(sibling);
    }
    while (!ts_node_is_null(sibling) && (flag(self, sibling) & F_COMMENT)) {
        long start_row = ts_node_start_point(sibling).row;
        if (end_row(sibling) < next_row - 1) break;
        TSNode before = ts_node_prev_sibling(sibling);
        if (!ts_node_is_null(before) && end_row(before) == start_row) break;
        PyObject *pair = Py_BuildValue("(II)", ts_node_start_byte(sibling),
                                       ts_node_end_byte(sibling));
        if (pair == NULL || PyList_Insert(ranges, 0, pair) < 0) {
            Py_XDECREF(pair);
            Py_DECREF(ranges);
            return NULL;
        }
        Py_DECREF(pair);
        *first_row = next_row = start_row;
        sibling = ts_node_prev_named_sibling(sibling);
    }
    PyObject *result = PyList_AsTuple(ranges);
    Py_DECREF(ranges);
    return result;
}

static TSNode body_of(Extractor *self, TSNode node) {
    TSNode body = {0};
    if (self->body_field) body = ts_node_child_by_field_id(node, self->body_field);
    if (!ts_node_is_null(body)) return body;
    TSTreeCursor cursor = ts_tree_cursor_new(node);
    if (ts_tree_cursor_goto_first_child(&cursor)) {
        do {
            TSNode child = ts_tree_cursor_current_node(&cursor);
            if (flag(self, child) & F_BODY) {
                body = child;
                break;
            }
        } while (ts_tree_cursor_goto_next_sibling(&cursor));
    }
    ts_tree_cursor_delete(&cursor);
    return body;
}

static int compare_pairs(const void *a, const void *b) {
    const uint32_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] < y[1] ? -1 : x[1] > y[1]);
}

/* The byte ranges of every comment inside `head` that starts before `stop`, sorted, as
 * (start, end) pairs in `*cuts` (freed by the caller): what a signature spanning lines leaves
 * out. Their number, or -1 when out of memory. */
static long comment_cuts(Extractor *self, TSNode head, uint32_t stop, uint32_t **cuts) {
    size_t depth = 0, capacity = 64, count = 0, cut_capacity = 8;
    TSNode *pending = malloc(capacity * sizeof(TSNode));
    *cuts = malloc(cut_capacity * 2 * sizeof(uint32_t));
    if (pending == NULL || *cuts == NULL) goto failed;
    for (uint32_t i = 0, n = ts_node_child_count(head); i < n; i++) {
        TSNode child = ts_node_child(head, i);
        if (ts_node_start_byte(child) >= stop) continue;
        pending[depth++] = child;
        while (depth) {
            TSNode node = pending[--depth];
            if (flag(self, node) & F_COMMENT) {
                if (count == cut_capacity) {
                    uint32_t *grown = realloc(*cuts, (cut_capacity *= 2) * 2 * sizeof(uint32_t));
                    if (grown == NULL) goto failed;
                    *cuts = grown;
                }
                (*cuts)[2 * count] = ts_node_start_byte(node);
                (*cuts)[2 * count++ + 1] = ts_node_end_byte(node);
                continue;
            }
            for (uint32_t j = 0, m = ts_node_child_count(node); j < m; j++) {
                TSNode inner = ts_node_child(node, j);
                if (ts_node_start_byte(inner) >= stop) continue;
                if (depth == capacity) {
                    TSNode *grown = realloc(pending, (capacity *= 2) * sizeof(TSNode));
                    if (grown == NULL) goto failed;
                    pending = grown;
                }
                pending[depth++] = inner;
            }
        }
    }
    free(pending);
    qsort(*cuts, count, 2 * sizeof(uint32_t), compare_pairs);
    return (long)count;
failed:
    free(pending);
    free(*cuts);
    *cuts = NULL;
    PyErr_NoMemory();
    return -1;
}

static PyObject *pairs_tuple(const uint32_t *pairs, size_t count) {
    PyObject *result = PyTuple_New((Py_ssize_t)(2 * count));
    for (size_t i = 0; result != NULL && i < 2 * count; i++) {
        PyObject *value = PyLong_FromUnsignedLong(pairs[i]);
        if (value == NULL) Py_CLEAR(result);
        else PyTuple_SET_ITEM(result, (Py_ssize_t)i, value);
    }
    return result;
}

/* The signature of the definition whose head is [start, end) and body starts at
 * `body_start`: a str, or, when the head holds non-ASCII text, the comment cuts (a tuple) for
 * Python's rules to compute it with. */
static PyObject *signature(Extractor *self, const char *source, TSNode head, long body_start,
                           int strip_brace) {
    uint32_t start = ts_node_start_byte(head), end = ts_node_end_byte(head), *cuts = NULL;
    long count = 0;
    if (native_head_needs_cuts(source, start, body_start)) {
        count = comment_cuts(self, head, (uint32_t)body_start, &cuts);
        if (count < 0) return NULL;
    }
    PyObject *result =
        native_signature(source, start, end, body_start, strip_brace, cuts, (size_t)count);
    if (result == NULL && !PyErr_Occurred()) result = pairs_tuple(cuts, (size_t)count);
    free(cuts);
    return result;
}

static inline uint32_t code_points(const char *source, uint32_t end, uint32_t columns,
                                   int ascii) {
    /* A column in code points, from one in bytes (the source is valid UTF-8). */
    if (ascii) return columns;
    uint32_t count = 0;
    for (const char *c = source + end - columns; c < source + end; c++)
        count += ((unsigned char)*c & 0xC0) != 0x80;
    return count;
}

/* ---- predicates (as py-tree-sitter evaluates them) ------------------------------------------ */

static int satisfies(Extractor *self, const TSQueryMatch *match, const char *source) {
    uint32_t count = self->predicate_counts[match->pattern_index];
    Predicate *predicates = self->predicates[match->pattern_index];
    for (uint32_t p = 0; p < count; p++) {
        Predicate *predicate = &predicates[p];
        for (uint16_t i = 0; i < match->capture_count; i++) {
            if (match->captures[i].index != predicate->capture) continue;
            TSNode node = match->captures[i].node;
            uint32_t start = ts_node_start_byte(node), length = ts_node_end_byte(node) - start;
            const char *text = source + start;
            int ok;
            if (predicate->op == P_EQ) {
                ok = (size_t)PyBytes_GET_SIZE(predicate->value) == length &&
                     memcmp(PyBytes_AS_STRING(predicate->value), text, length) == 0;
            } else if (predicate->op == P_ANY_OF) {
                ok = 0;
                for (Py_ssize_t v = 0; !ok && v < PyTuple_GET_SIZE(predicate->value); v++) {
                    PyObject *value = PyTuple_GET_ITEM(predicate->value, v);
                    ok = (size_t)PyBytes_GET_SIZE(value) == length &&
                         memcmp(PyBytes_AS_STRING(value), text, length) == 0;
                }
            } else {
                PyObject *found = PyObject_CallMethod(predicate->value, "search", "s#", text,
                                                      (Py_ssize_t)length);
                if (found == NULL) return -1;
                ok = found != Py_None;
                Py_DECREF(found);
            }
            if (ok != predicate->positive) return 0;
        }
    }
    return 1;
}


/* ---- extraction ---------------------------------------------------------------------------- */

static inline uint32_t first_capture(const TSQueryMatch *match, uint32_t id, TSNode *node) {
    for (uint16_t i = 0; id != NONE && i < match->capture_count; i++) {
        if (match->captures[i].index == id) {
            *node = match->captures[i].node;
            return 1;
        }
    }
    return 0;
}

/* A span (start row, start column, end row, end column) of `type`: a tuple, or a named tuple
 * class (`model.Span`), whose instances are tuples with no more to them. */
static PyObject *new_span(PyTypeObject *type, long a, long b, long c, long d) {
    PyObject *span = type == NULL ? PyTuple_New(4) : type->tp_alloc(type, 4);
    long values[] = {a, b, c, d};
    for (Py_ssize_t i = 0; span != NULL && i < 4; i++) {
        PyObject *value = PyLong_FromLong(values[i]);
        if (value == NULL) Py_CLEAR(span);
        else PyTuple_SET_ITEM(span, i, value);
    }
    return span;
}

/* One definition: (pattern, name, name start, name end, start byte, end byte, span, outer row,
 * head start, head end, body start, doc start, doc end, container start, container end, first
 * row of the comment above, its comments' ranges, signature); -1 for what is absent. The span
 * (see `new_span`) counts columns in code points. The outer node wears
 * the wrappers, the head is where the signature starts; the signature is a str, or the comment
 * cuts for Python to compute it with (see `signature`). */
static PyObject *def_tuple(Extractor *self, const TSQueryMatch *match, TSNode node, TSNode name,
                           const char *source, int ascii) {
    TSNode outer = outer_node(self, node), doc = {0}, container = {0};
    TSPoint start = ts_node_start_point(node), end = ts_node_end_point(node);
    uint32_t start_byte = ts_node_start_byte(node), end_byte = ts_node_end_byte(node);
    uint32_t name_start = ts_node_start_byte(name), name_end = ts_node_end_byte(name);
    long outer_row =
        ts_node_eq(outer, node) ? (long)start.row : (long)ts_node_start_point(outer).row;
    TSNode head = (!ts_node_eq(outer, node) && outer_row == (long)start.row) ? outer : node;
    TSNode body = body_of(self, node);
    long body_start = ts_node_is_null(body) ? -1 : (long)ts_node_start_byte(body);
    long doc_start = -1, doc_end = -1, container_start = -1, container_end = -1, first_row = -1;
    PyObject *comments, *text;
    if (first_capture(match, self->c_doc, &doc)) {
        doc_start = ts_node_start_byte(doc);
        doc_end = ts_node_end_byte(doc);
        comments = PyTuple_New(0);
    } else {
        comments = comment_above(self, outer, outer_row, &first_row);
    }
    if (comments == NULL) return NULL;
    if (first_capture(match, self->c_container, &container)) {
        container_start = ts_node_start_byte(container);
        container_end = ts_node_end_byte(container);
    }
    text = signature(self, source, head, body_start,
                     (self->roles[match->pattern_index] & R_STRIP_BRACE) != 0);
    PyObject *name_text = text == NULL ? NULL
                                       : PyUnicode_DecodeUTF8(source + name_start,
                                                              name_end - name_start, "replace");
    if (name_text == NULL) {
        Py_DECREF(comments);
        Py_XDECREF(text);
        return NULL;
    }
    PyUnicode_InternInPlace(&name_text); /* as snapshot loads do: one string per name */
    PyObject *span = new_span(self->span_type, start.row,
                              code_points(source, start_byte, start.column, ascii), end.row,
                              code_points(source, end_byte, end.column, ascii));
    long before[] = {name_start, name_end, start_byte, end_byte};
    long after[] = {outer_row,       ts_node_start_byte(head), ts_node_end_byte(head),
                    body_start,      doc_start,                doc_end,
                    container_start, container_end,            first_row};
    PyObject *result = span == NULL ? NULL : PyTuple_New(18);
    if (result == NULL) {
        Py_XDECREF(span);
        goto failed;
    }
    PyTuple_SET_ITEM(result, 0, PyLong_FromLong(match->pattern_index));
    PyTuple_SET_ITEM(result, 1, name_text);
    for (Py_ssize_t i = 0; i < 4; i++) PyTuple_SET_ITEM(result, i + 2, PyLong_FromLong(before[i]));
    PyTuple_SET_ITEM(result, 6, span);
    for (Py_ssize_t i = 0; i < 9; i++) PyTuple_SET_ITEM(result, i + 7, PyLong_FromLong(after[i]));
    PyTuple_SET_ITEM(result, 16, comments);
    PyTuple_SET_ITEM(result, 17, text);
    for (Py_ssize_t i = 0; i < 16; i++)
        if (PyTuple_GET_ITEM(result, i) == NULL) return Py_DECREF(result), NULL;
    return result;
failed:
    Py_DECREF(name_text);
    Py_DECREF(comments);
    Py_DECREF(text);
    return NULL;
}

/* A container that is not a definition (a Rust `impl`): (pattern, start byte, end byte, first
 * line of its block counting the comment above, name start, name end). */
static PyObject *scope_tuple(Extractor *self, const TSQueryMatch *match, TSNode scope,
                             TSNode name) {
    TSNode outer = outer_node(self, scope);
    long first_row;
    PyObject *comments = comment_above(self, outer, ts_node_start_point(outer).row, &first_row);
    if (comments == NULL) return NULL;
    Py_DECREF(comments);
    long line = first_row >= 0 ? first_row : (long)ts_node_start_point(scope).row;
    return Py_BuildValue("(IIIlII)", match->pattern_index, ts_node_start_byte(scope),
                         ts_node_end_byte(scope), line, ts_node_start_byte(name),
                         ts_node_end_byte(name));
}

static int append_new(PyObject *list, PyObject *item) {
    if (item == NULL) return -1;
    int failed = PyList_Append(list, item);
    Py_DECREF(item);
    return failed;
}

typedef struct {
    uint32_t *pairs;
    size_t count, capacity;
} Ranges;

static int add_range(Ranges *ranges, uint32_t start, uint32_t end) {
    if (ranges->count == ranges->capacity) {
        size_t capacity = ranges->capacity ? 2 * ranges->capacity : 64;
        uint32_t *grown = realloc(ranges->pairs, capacity * 2 * sizeof(uint32_t));
        if (grown == NULL) return PyErr_NoMemory(), -1;
        ranges->pairs = grown;
        ranges->capacity = capacity;
    }
    ranges->pairs[2 * ranges->count] = start;
    ranges->pairs[2 * ranges->count++ + 1] = end;
    return 0;
}

typedef struct {
    PyObject *defs, *scopes, *imports, *members;
    Ranges names;
    const char *source;
    int ascii;
} Found;

static int collect(Extractor *self, const TSQueryMatch *match, Found *found) {
    TSNode node = {0}, name = {0}, other = {0};
    unsigned role = self->roles[match->pattern_index];
    if (role & R_IMPORTS) {
        for (uint16_t i = 0; i < match->capture_count; i++) {
            TSNode captured = match->captures[i].node;
            if (match->captures[i].index == self->c_import &&
                append_new(found->imports, Py_BuildValue("(II)", ts_node_start_byte(captured),
                                                         ts_node_end_byte(captured))) < 0)
                return -1;
        }
        if (first_capture(match, self->c_member, &name) &&
            first_capture(match, self->c_package, &other))
            return append_new(found->members, Py_BuildValue("(IIII)", ts_node_start_byte(other),
                                                            ts_node_end_byte(other),
                                                            ts_node_start_byte(name),
                                                            ts_node_end_byte(name)));
        return 0;
    }
    if (role & R_DEFINES) {
        int has_node = 0;
        for (uint16_t i = 0; !has_node && i < match->capture_count; i++) {
            if (self->is_definition[match->captures[i].index]) {
                node = match->captures[i].node;
                has_node = 1;
            }
        }
        if (!has_node || !first_capture(match, self->c_name, &name)) return 0;
        if (add_range(&found->names, ts_node_start_byte(name), ts_node_end_byte(name)) < 0)
            return -1;
        return append_new(found->defs,
                          def_tuple(self, match, node, name, found->source, found->ascii));
    }
    if (first_capture(match, self->c_scope, &node) &&
        first_capture(match, self->c_scope_name, &name))
        return append_new(found->scopes, scope_tuple(self, match, node, name));
    return 0;
}

/* The tree of `args`' one argument, which must be bytes (valid UTF-8). */
static TSTree *parse(Extractor *self, PyObject *args) {
    PyObject *bytes;
    if (!PyArg_ParseTuple(args, "S", &bytes)) return NULL;
    Py_ssize_t length = PyBytes_GET_SIZE(bytes);
    if ((uint64_t)length > UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "source too large for tree-sitter");
        return NULL;
    }
    /* With the GIL held, as py-tree-sitter parses: the runtime allocates through pymalloc
     * (see PyInit__native), which needs it, and parses a tenth faster for it. The GIL also
     * keeps the parser and cursor to one caller at a time. */
    TSTree *tree =
        ts_parser_parse_string(self->parser, NULL, PyBytes_AS_STRING(bytes), (uint32_t)length);
    if (tree == NULL) PyErr_SetString(PyExc_ValueError, "tree-sitter could not parse the source");
    return tree;
}

/* extract(source) -> (definitions, scopes, imports, members, references, line count, blank
 * lines), see `def_tuple`, `scope_tuple` and `collect`; references as `native_references`
 * makes them, blank lines as `native_blank_lines`. */
static PyObject *extractor_extract(Extractor *self, PyObject *args) {
    TSTree *tree = parse(self, args);
    if (tree == NULL) return NULL;
    PyObject *bytes = PyTuple_GET_ITEM(args, 0), *references = NULL, *blank = NULL, *result = NULL;
    Found found = {PyList_New(0), PyList_New(0), PyList_New(0), PyList_New(0), {0},
                   PyBytes_AS_STRING(bytes), 0};
    size_t length = (size_t)PyBytes_GET_SIZE(bytes);
    PyObject *isascii = PyObject_CallMethod(bytes, "isascii", NULL); /* word by word */
    if (isascii == NULL) goto done;
    found.ascii = isascii == Py_True;
    Py_DECREF(isascii);
    if (!found.defs || !found.scopes || !found.imports || !found.members) goto done;
    ts_query_cursor_set_max_start_depth(self->cursor,
                                        self->max_depth < 0 ? NONE : (uint32_t)self->max_depth);
    ts_query_cursor_exec(self->cursor, self->query, ts_tree_root_node(tree));
    TSQueryMatch match;
    while (ts_query_cursor_next_match(self->cursor, &match)) {
        int ok = satisfies(self, &match, found.source);
        if (ok < 0 || (ok && collect(self, &match, &found) < 0)) goto done;
    }
    if (found.names.count)
        qsort(found.names.pairs, found.names.count, 2 * sizeof(uint32_t), compare_pairs);
    Py_ssize_t line_count = 0;
    references = native_references(found.source, length, found.names.pairs, found.names.count);
    blank = references == NULL ? NULL : native_blank_lines(found.source, length, &line_count);
    if (blank != NULL)
        result = Py_BuildValue("(OOOOOnO)", found.defs, found.scopes, found.imports,
                               found.members, references, line_count, blank);
done:
    Py_XDECREF(found.defs);
    Py_XDECREF(found.scopes);
    Py_XDECREF(found.imports);
    Py_XDECREF(found.members);
    Py_XDECREF(references);
    Py_XDECREF(blank);
    free(found.names.pairs);
    ts_tree_delete(tree);
    return result;
}

static PyObject *extractor_parse(Extractor *self, PyObject *args) {
    TSTree *tree = parse(self, args);
    if (tree == NULL) return NULL;
    ts_tree_delete(tree);
    Py_RETURN_NONE;
}

/* ---- the type and the module --------------------------------------------------------------- */

static void extractor_dealloc(Extractor *self) {
    if (self->predicates != NULL) {
        for (uint32_t p = 0; p < self->pattern_count; p++) {
            for (uint32_t i = 0; self->predicates[p] != NULL && i < self->predicate_counts[p]; i++)
                Py_XDECREF(self->predicates[p][i].value);
            free(self->predicates[p]);
        }
    }
    free(self->predicates);
    free(self->predicate_counts);
    free(self->flags);
    free(self->roles);
    free(self->is_definition);
    if (self->cursor != NULL) ts_query_cursor_delete(self->cursor);
    if (self->query != NULL) ts_query_delete(self->query);
    if (self->parser != NULL) ts_parser_delete(self->parser);
    Py_XDECREF(self->capsule);
    Py_XDECREF(self->span_type);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static uint32_t capture_id(TSQuery *query, const char *wanted) {
    for (uint32_t id = 0, n = ts_query_capture_count(query); id < n; id++) {
        uint32_t length;
        const char *name = ts_query_capture_name_for_id(query, id, &length);
        if (strlen(wanted) == length && memcmp(name, wanted, length) == 0) return id;
    }
    return NONE;
}

static PyObject *string_value(TSQuery *query, uint32_t id) {
    uint32_t length;
    const char *text = ts_query_string_value_for_id(query, id, &length);
    return PyBytes_FromStringAndSize(text, length);
}

/* One pattern's predicates; only those the outline queries use are supported (eq?, not-eq?,
 * match?, not-match?, any-of? on a capture and strings): anything else is a ValueError, and
 * the caller falls back to py-tree-sitter. */
static int compile_predicates(Extractor *self, uint32_t pattern, PyObject *re_compile) {
    uint32_t steps;
    const TSQueryPredicateStep *step = ts_query_predicates_for_pattern(self->query, pattern, &steps);
    self->predicates[pattern] = calloc(steps ? steps : 1, sizeof(Predicate));
    if (self->predicates[pattern] == NULL) return PyErr_NoMemory(), -1;
    for (uint32_t i = 0; i < steps;) {
        uint32_t n = 0, length;
        while (i + n < steps && step[i + n].type != TSQueryPredicateStepTypeDone) n++;
        const TSQueryPredicateStep *s = step + i;
        i += n + 1;
        if (n < 3 || s[0].type != TSQueryPredicateStepTypeString ||
            s[1].type != TSQueryPredicateStepTypeCapture)
            goto unsupported;
        for (uint32_t k = 2; k < n; k++)
            if (s[k].type != TSQueryPredicateStepTypeString) goto unsupported;
        const char *name = ts_query_string_value_for_id(self->query, s[0].value_id, &length);
        Predicate *predicate = &self->predicates[pattern][self->predicate_counts[pattern]];
        predicate->capture = s[1].value_id;
        predicate->positive = strncmp(name, "not-", 4) != 0;
        const char *base = predicate->positive ? name : name + 4;
        if (strcmp(base, "eq?") == 0 && n == 3) {
            predicate->op = P_EQ;
            predicate->value = string_value(self->query, s[2].value_id);
        } else if (strcmp(base, "match?") == 0 && n == 3) {
            uint32_t size;
            const char *regex = ts_query_string_value_for_id(self->query, s[2].value_id, &size);
            predicate->op = P_MATCH;
            predicate->value = PyObject_CallFunction(re_compile, "s#", regex, (Py_ssize_t)size);
        } else if (strcmp(name, "any-of?") == 0) {
            predicate->op = P_ANY_OF;
            predicate->value = PyTuple_New(n - 2);
            for (uint32_t k = 2; predicate->value != NULL && k < n; k++) {
                PyObject *value = string_value(self->query, s[k].value_id);
                if (value == NULL) Py_CLEAR(predicate->value);
                else PyTuple_SET_ITEM(predicate->value, k - 2, value);
            }
        } else {
            goto unsupported;
        }
        if (predicate->value == NULL) return -1;
        self->predicate_counts[pattern]++;
        continue;
    unsupported:
        PyErr_Format(PyExc_ValueError, "unsupported predicate in pattern %u", pattern);
        return -1;
    }
    return 0;
}

static int extractor_init(Extractor *self, PyObject *args, PyObject *kwargs) {
    PyObject *capsule;
    const char *query_source, *roles, *flags;
    Py_ssize_t query_length, role_count, flag_count;
    unsigned int body_field;
    int max_depth;
    PyObject *span_type = Py_None;
    static char *keywords[] = {"language", "query",     "roles", "flags",
                               "body_field", "max_depth", "span",  NULL};
    if (self->parser != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Extractor is already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Oy#y#y#Ii|O", keywords, &capsule,
                                     &query_source, &query_length, &roles, &role_count, &flags,
                                     &flag_count, &body_field, &max_depth, &span_type))
        return -1;
    if (span_type != Py_None) {
        PyTypeObject *type = (PyTypeObject *)span_type;
        if (!PyType_Check(span_type) || !PyType_IsSubtype(type, &PyTuple_Type) ||
            type->tp_basicsize != PyTuple_Type.tp_basicsize ||
            type->tp_itemsize != PyTuple_Type.tp_itemsize) {
            PyErr_SetString(PyExc_TypeError, "span must be a tuple type with no more to it");
            return -1;
        }
        self->span_type = (PyTypeObject *)Py_NewRef(span_type);
    }
    const TSLanguage *language = PyCapsule_IsValid(capsule, PyCapsule_GetName(capsule))
                                     ? PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))
                                     : NULL;
    if (language == NULL) {
        PyErr_SetString(PyExc_TypeError, "language must be a grammar's language capsule");
        return -1;
    }
    self->capsule = Py_NewRef(capsule);
    self->parser = ts_parser_new();
    if (!ts_parser_set_language(self->parser, language)) {
        PyErr_Format(PyExc_ValueError, "grammar ABI %u is not supported by this runtime",
                     ts_language_abi_version(language));
        return -1;
    }
    uint32_t error_offset;
    TSQueryError error;
    self->query = ts_query_new(language, query_source, (uint32_t)query_length, &error_offset, &error);
    if (self->query == NULL) {
        PyErr_Format(PyExc_ValueError, "query error %d at byte %u", (int)error, error_offset);
        return -1;
    }
    self->pattern_count = ts_query_pattern_count(self->query);
    if ((uint32_t)role_count != self->pattern_count) {
        PyErr_SetString(PyExc_ValueError, "roles must hold one byte per pattern");
        return -1;
    }
    uint32_t captures = ts_query_capture_count(self->query);
    self->cursor = ts_query_cursor_new();
    self->roles = malloc(role_count ? role_count : 1);
    self->flags = malloc(flag_count ? flag_count : 1);
    self->is_definition = calloc(captures ? captures : 1, 1);
    self->predicates = calloc(self->pattern_count ? self->pattern_count : 1, sizeof(Predicate *));
    self->predicate_counts = calloc(self->pattern_count ? self->pattern_count : 1, sizeof(uint32_t));
    if (!self->roles || !self->flags || !self->is_definition || !self->predicates ||
        !self->predicate_counts) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(self->roles, roles, role_count);
    memcpy(self->flags, flags, flag_count);
    self->flag_count = (uint32_t)flag_count;
    self->body_field = (TSFieldId)body_field;
    self->max_depth = max_depth;
    for (uint32_t id = 0; id < captures; id++) {
        uint32_t length;
        const char *name = ts_query_capture_name_for_id(self->query, id, &length);
        self->is_definition[id] = length > 11 && memcmp(name, "definition.", 11) == 0;
    }
    self->c_name = capture_id(self->query, "name");
    self->c_doc = capture_id(self->query, "doc");
    self->c_container = capture_id(self->query, "container");
    self->c_scope = capture_id(self->query, "scope");
    self->c_scope_name = capture_id(self->query, "scope.name");
    self->c_import = capture_id(self->query, "import");
    self->c_package = capture_id(self->query, "import.package");
    self->c_member = capture_id(self->query, "import.member");
    PyObject *re = PyImport_ImportModule("re");
    PyObject *re_compile = re == NULL ? NULL : PyObject_GetAttrString(re, "compile");
    Py_XDECREF(re);
    if (re_compile == NULL) return -1;
    for (uint32_t p = 0; p < self->pattern_count; p++) {
        if (compile_predicates(self, p, re_compile) < 0) {
            Py_DECREF(re_compile);
            return -1;
        }
    }
    Py_DECREF(re_compile);
    return 0;
}

static PyMethodDef extractor_methods[] = {
    {"extract", (PyCFunction)extractor_extract, METH_VARARGS,
     "extract(source) -> (definitions, scopes, imports, members)"},
    {"parse", (PyCFunction)extractor_parse, METH_VARARGS, "parse(source) -> None: parse only"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ExtractorType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "copilot_ls.index._native.Extractor",
    .tp_basicsize = sizeof(Extractor),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A grammar's outline query, run natively over whole files.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)extractor_init,
    .tp_dealloc = (destructor)extractor_dealloc,
    .tp_methods = extractor_methods,
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "copilot_ls.index._native",
    "Native extraction for the workspace index (see extract.py).", -1, NULL,
};

PyMODINIT_FUNC PyInit__native(void) {
    /* This runtime is ours alone (its symbols are hidden), and only ever runs with the GIL. */
    ts_set_allocator(PyMem_Malloc, PyMem_Calloc, PyMem_Realloc, PyMem_Free);
    if (PyType_Ready(&ExtractorType) < 0) return NULL;
    PyObject *module = PyModule_Create(&native_module);
    if (module == NULL) return NULL;
    if (PyModule_AddObjectRef(module, "Extractor", (PyObject *)&ExtractorType) < 0 ||
        PyModule_AddIntConstant(module, "LANGUAGE_VERSION", TREE_SITTER_LANGUAGE_VERSION) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
