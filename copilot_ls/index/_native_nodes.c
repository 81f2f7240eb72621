/* Native extraction: reading the tree around a definition, and query predicates (see
 * _native.c). */
#include "_native.h"

#include <stdlib.h>
#include <string.h>

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

TSNode outer_node(Extractor *self, TSNode node) {
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

/* The comment block ending on the line above `node` (which starts on `next_row`): its
 * comments' texts, in order, as a tuple; `*first_row` is its first line, or -1. */
PyObject *comment_above(Extractor *self, TSNode node, long next_row, long *first_row,
                               const char *source) {
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
        uint32_t start = ts_node_start_byte(sibling), end = ts_node_end_byte(sibling);
        PyObject *pair = PyUnicode_DecodeUTF8(source + start, end - start, "replace");
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

TSNode body_of(Extractor *self, TSNode node) {
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

int compare_pairs(const void *a, const void *b) {
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
PyObject *signature(Extractor *self, const char *source, TSNode head, long body_start,
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


/* ---- predicates (as py-tree-sitter evaluates them) ------------------------------------------ */

int satisfies(Extractor *self, const TSQueryMatch *match, const char *source) {
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
