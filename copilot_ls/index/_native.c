/* Index stage, native half: parse a file and run its outline query with a tree-sitter runtime
 * of our own, read every node property extraction needs and settle the definitions in C,
 * handing Python finished definitions (all but doc texts, which Python cleans).
 *
 * `extract.py` does the same from Python through py-tree-sitter, where each node property read
 * costs about half a microsecond; over a workspace those reads cost half as much as the parse
 * itself. Here they cost nothing next to it. The grammars are the same PyPI wheels: their
 * language pointer (a capsule) is all this module needs from them. What is read, and how, is
 * `extract.py`'s and `definition_text.py`'s logic, which `tests/unit/test_native_extract.py`
 * holds this module to: both paths must index every sample file and the standard library to
 * the same symbols.
 *
 * Extractor(language, query, roles, flags, body_field, max_depth, kinds, span=None,
 *           definition=None)
 *   language  the grammar's capsule (`tree_sitter_python.language()`)
 *   query     the outline query's source (tags and imports), UTF-8 bytes
 *   roles     one byte per pattern: 1 an imports pattern, 2 its definitions' signatures lose a
 *             trailing `{`, 4 it captures a definition (a tags pattern of a kind)
 *   flags     one byte per node kind id: 1 wrapper, 2 may stand between a doc comment and its
 *             definition, 4 comment, 8 body
 *   body_field  the grammar's `body` field id, 0 for none
 *   max_depth   deepest start of a match, -1 for no limit
 *   kinds       per pattern, the kind its definitions have (`LanguageQueries.definition_kinds`)
 *   span        optional: the tuple type of definitions' spans (`model.Span`)
 *   definition  optional: the tuple type of settled definitions (`model.Definition`)
 * Extractor.extract(source) -> (definitions, imports, members, references, line count, blank
 *   lines, chunk starts, block lines), see `extractor_extract`.
 * Extractor.parse(source) -> None: parse only (for benchmarks).
 * It holds the GIL throughout (see `parse`); `native.py` keeps one Extractor per thread.
 */
#include "_native.h"

#include <stdlib.h>
#include <string.h>

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

PyObject *s_function, *s_method, *s_constant, *s_variable; /* interned kinds */

/* Whether a name is a constant's by convention (`definitions.constant_name`). */
static int constant_name(const char *name, size_t length) {
    size_t i = 0;
    while (i < length && name[i] == '_') i++;
    if (i == length || name[i] < 'A' || name[i] > 'Z') return 0;
    for (i++; i < length; i++)
        if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_'))
            return 0;
    return 1;
}

static PyObject *decoded(const char *source, TSNode node) {
    uint32_t start = ts_node_start_byte(node);
    return PyUnicode_DecodeUTF8(source + start, ts_node_end_byte(node) - start, "replace");
}

/* One definition found by `match` (see `Def`): its name, kind, span (columns in code points),
 * signature, doc, explicit container, and where its block starts (the doc comment above it
 * and its wrappers counted). 0, or -1 with an exception set and nothing held. */
static int def_record(Extractor *self, const TSQueryMatch *match, TSNode node, TSNode name,
                      const char *source, int ascii, Def *def) {
    uint32_t pattern = match->pattern_index;
    TSNode outer = outer_node(self, node), doc = {0}, container = {0};
    TSPoint start = ts_node_start_point(node), end = ts_node_end_point(node);
    uint32_t start_byte = ts_node_start_byte(node), end_byte = ts_node_end_byte(node);
    uint32_t name_start = ts_node_start_byte(name), name_end = ts_node_end_byte(name);
    long outer_row =
        ts_node_eq(outer, node) ? (long)start.row : (long)ts_node_start_point(outer).row;
    TSNode head = (!ts_node_eq(outer, node) && outer_row == (long)start.row) ? outer : node;
    TSNode body = body_of(self, node);
    long body_start = ts_node_is_null(body) ? -1 : (long)ts_node_start_byte(body);
    long first_row = -1;
    *def = (Def){pattern, name_start, start_byte, end_byte, outer_row, self->kind_classes[pattern],
                 self->kind_names[pattern], NULL, NULL, NULL, NULL, NULL};
    if (first_capture(match, self->c_doc, &doc)) {
        def->doc = decoded(source, doc);
        if (def->doc == NULL) goto failed;
    } else {
        PyObject *comments = comment_above(self, outer, outer_row, &first_row, source);
        if (comments == NULL) goto failed;
        if (first_row >= 0) {
            def->doc = comments;
            def->block_line = first_row;
        } else {
            Py_DECREF(comments);
        }
    }
    if (first_capture(match, self->c_container, &container)) {
        def->container = decoded(source, container);
        if (def->container == NULL) goto failed;
    }
    int strip_brace = (self->roles[pattern] & R_STRIP_BRACE) != 0;
    def->signature = signature(self, source, head, body_start, strip_brace);
    if (def->signature != NULL && !PyUnicode_Check(def->signature)) { /* Python computes it */
        PyObject *cuts = def->signature;
        def->signature = Py_BuildValue("(IIlN)", ts_node_start_byte(head),
                                       ts_node_end_byte(head), body_start, cuts);
    }
    def->name = PyUnicode_DecodeUTF8(source + name_start, name_end - name_start, "replace");
    if (def->signature == NULL || def->name == NULL) goto failed;
    PyUnicode_InternInPlace(&def->name); /* as snapshot loads do: one string per name */
    if (def->kind & K_ASSIGNMENT) {
        int constant = constant_name(source + name_start, name_end - name_start);
        def->kind = K_SMALL;
        def->kind_name = constant ? s_constant : s_variable;
    }
    def->span = new_span(self->span_type, start.row,
                         code_points(source, start_byte, start.column, ascii), end.row,
                         code_points(source, end_byte, end.column, ascii));
    if (def->span == NULL) goto failed;
    return 0;
failed:
    Py_CLEAR(def->name);
    Py_CLEAR(def->span);
    Py_CLEAR(def->signature);
    Py_CLEAR(def->doc);
    Py_CLEAR(def->container);
    return -1;
}

/* A container that is not a definition (a Rust `impl`): where it is, the first line of its
 * block counting the comment above, and its name. */
static int scope_record(Extractor *self, TSNode scope, TSNode name, const char *source,
                        ScopeRec *record) {
    TSNode outer = outer_node(self, scope);
    long first_row;
    PyObject *comments =
        comment_above(self, outer, ts_node_start_point(outer).row, &first_row, source);
    if (comments == NULL) return -1;
    Py_DECREF(comments);
    *record = (ScopeRec){ts_node_start_byte(scope), ts_node_end_byte(scope),
                         first_row >= 0 ? first_row : (long)ts_node_start_point(scope).row,
                         decoded(source, name)};
    return record->name == NULL ? -1 : 0;
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

/* Grows `*items` (of `*capacity` elements of `size` bytes) to hold one more. */
static int reserve(void **items, size_t *capacity, size_t count, size_t size) {
    if (count < *capacity) return 0;
    size_t grown_capacity = *capacity ? 2 * *capacity : 64;
    void *grown = realloc(*items, grown_capacity * size);
    if (grown == NULL) return PyErr_NoMemory(), -1;
    *items = grown;
    *capacity = grown_capacity;
    return 0;
}

typedef struct {
    Def *defs;
    size_t def_count, def_capacity;
    ScopeRec *scopes;
    size_t scope_count, scope_capacity;
    PyObject *imports, *members;
    Ranges names;
    const char *source;
    int ascii;
} Found;

static void release_found(Found *found) {
    for (size_t i = 0; i < found->def_count; i++) {
        Def *def = &found->defs[i];
        Py_XDECREF(def->name);
        Py_XDECREF(def->span);
        Py_XDECREF(def->signature);
        Py_XDECREF(def->doc);
        Py_XDECREF(def->container);
    }
    for (size_t i = 0; i < found->scope_count; i++) Py_XDECREF(found->scopes[i].name);
    free(found->defs);
    free(found->scopes);
    free(found->names.pairs);
    Py_XDECREF(found->imports);
    Py_XDECREF(found->members);
}

static int collect(Extractor *self, const TSQueryMatch *match, Found *found) {
    TSNode node = {0}, name = {0}, other = {0};
    unsigned role = self->roles[match->pattern_index];
    if (role & R_IMPORTS) {
        for (uint16_t i = 0; i < match->capture_count; i++) {
            TSNode captured = match->captures[i].node;
            if (match->captures[i].index == self->c_import &&
                append_new(found->imports, Py_BuildValue("(IN)", ts_node_start_byte(captured),
                                                         decoded(found->source, captured))) < 0)
                return -1;
        }
        if (first_capture(match, self->c_member, &name) &&
            first_capture(match, self->c_package, &other))
            return append_new(found->members, Py_BuildValue("(NIN)", decoded(found->source, other),
                                                            ts_node_start_byte(name),
                                                            decoded(found->source, name)));
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
        if (add_range(&found->names, ts_node_start_byte(name), ts_node_end_byte(name)) < 0 ||
            reserve((void **)&found->defs, &found->def_capacity, found->def_count, sizeof(Def)) < 0 ||
            def_record(self, match, node, name, found->source, found->ascii,
                       &found->defs[found->def_count]) < 0)
            return -1;
        found->def_count++;
        return 0;
    }
    if (first_capture(match, self->c_scope, &node) &&
        first_capture(match, self->c_scope_name, &name)) {
        if (reserve((void **)&found->scopes, &found->scope_capacity, found->scope_count,
                    sizeof(ScopeRec)) < 0 ||
            scope_record(self, node, name, found->source, &found->scopes[found->scope_count]) < 0)
            return -1;
        found->scope_count++;
    }
    return 0;
}

/* The settled definition `def` for Python: a `definition_type` instance (name, kind, span,
 * signature, doc "", container) when nothing is left to compute, else a tuple (name, kind,
 * span, signature, container, doc) whose doc (a str: a docstring as written; a tuple: the
 * comments' texts) or signature (a tuple: see `Def`) Python finishes. */
static PyObject *settled_item(Extractor *self, const Def *def, PyObject *empty) {
    PyObject *container = def->container != NULL ? def->container : empty;
    int done = def->doc == NULL && PyUnicode_Check(def->signature);
    if (done && self->definition_type != NULL) {
        PyObject *item = self->definition_type->tp_alloc(self->definition_type, 6);
        if (item == NULL) return NULL;
        PyObject *values[] = {def->name, def->kind_name, def->span, def->signature, empty,
                              container};
        for (Py_ssize_t i = 0; i < 6; i++) PyTuple_SET_ITEM(item, i, Py_NewRef(values[i]));
        return item;
    }
    return PyTuple_Pack(6, def->name, def->kind_name, def->span, def->signature, container,
                        def->doc != NULL ? def->doc : Py_None);
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

/* extract(source) -> (definitions, imports, members, references, line count, blank lines,
 * chunk starts, block lines): the settled definitions in order (see `settled_item`); imports
 * as (start byte, text) and `from package import member`s as (package, member start, member);
 * references as `native_references` makes them; blank lines as `native_blank_lines`; the
 * first lines of the top-level blocks and of every block, for chunking. */
PyObject *extractor_extract(Extractor *self, PyObject *args) {
    TSTree *tree = parse(self, args);
    if (tree == NULL) return NULL;
    PyObject *bytes = PyTuple_GET_ITEM(args, 0), *references = NULL, *blank = NULL,
             *result = NULL, *definitions = NULL, *starts = NULL, *lines = NULL;
    Found found = {0};
    found.imports = PyList_New(0);
    found.members = PyList_New(0);
    found.source = PyBytes_AS_STRING(bytes);
    size_t length = (size_t)PyBytes_GET_SIZE(bytes), *order = NULL, count = 0;
    PyObject *isascii = PyObject_CallMethod(bytes, "isascii", NULL); /* word by word */
    if (isascii == NULL || !found.imports || !found.members) goto done;
    found.ascii = isascii == Py_True;
    ts_query_cursor_set_max_start_depth(self->cursor,
                                        self->max_depth < 0 ? NONE : (uint32_t)self->max_depth);
    ts_query_cursor_exec(self->cursor, self->query, ts_tree_root_node(tree));
    TSQueryMatch match;
    while (ts_query_cursor_next_match(self->cursor, &match)) {
        int ok = satisfies(self, &match, found.source);
        if (ok < 0 || (ok && collect(self, &match, &found) < 0)) goto done;
    }
    order = malloc((found.def_count ? found.def_count : 1) * sizeof(size_t));
    if (order == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (native_settle(found.defs, found.def_count, found.scopes, found.scope_count, s_function,
                      s_method, order, &count, &starts, &lines) < 0)
        goto done;
    PyObject *empty = PyUnicode_New(0, 0);
    definitions = empty == NULL ? NULL : PyList_New((Py_ssize_t)count);
    for (size_t k = 0; definitions != NULL && k < count; k++) {
        PyObject *item = settled_item(self, &found.defs[order[k]], empty);
        if (item == NULL) Py_CLEAR(definitions);
        else PyList_SET_ITEM(definitions, (Py_ssize_t)k, item);
    }
    Py_XDECREF(empty);
    if (definitions == NULL) goto done;
    if (found.names.count)
        qsort(found.names.pairs, found.names.count, 2 * sizeof(uint32_t), compare_pairs);
    Py_ssize_t line_count = 0;
    references = native_references(found.source, length, found.names.pairs, found.names.count);
    blank = references == NULL ? NULL : native_blank_lines(found.source, length, &line_count);
    if (blank != NULL)
        result = Py_BuildValue("(OOOOnOOO)", definitions, found.imports, found.members,
                               references, line_count, blank, starts, lines);
done:
    Py_XDECREF(isascii);
    Py_XDECREF(definitions);
    Py_XDECREF(starts);
    Py_XDECREF(lines);
    Py_XDECREF(references);
    Py_XDECREF(blank);
    release_found(&found);
    free(order);
    ts_tree_delete(tree);
    return result;
}

PyObject *extractor_parse(Extractor *self, PyObject *args) {
    TSTree *tree = parse(self, args);
    if (tree == NULL) return NULL;
    ts_tree_delete(tree);
    Py_RETURN_NONE;
}
