/* Native extraction: the Extractor type and the module (see _native.c). */
#include "_native.h"

#include <stdlib.h>
#include <string.h>

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
    for (uint32_t p = 0; self->kind_names != NULL && p < self->pattern_count; p++)
        Py_XDECREF(self->kind_names[p]);
    free(self->kind_names);
    free(self->kind_classes);
    Py_XDECREF(self->definition_type);
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

/* `*out`, a new reference to `type`, a tuple subclass whose instances hold nothing more (a
 * named tuple), or NULL for None. */
static int plain_tuple_type(PyObject *type, const char *what, PyTypeObject **out) {
    if (type == Py_None) return 0;
    PyTypeObject *tuple_type = (PyTypeObject *)type;
    if (!PyType_Check(type) || !PyType_IsSubtype(tuple_type, &PyTuple_Type) ||
        tuple_type->tp_basicsize != PyTuple_Type.tp_basicsize ||
        tuple_type->tp_itemsize != PyTuple_Type.tp_itemsize) {
        PyErr_Format(PyExc_TypeError, "%s must be a tuple type with no more to it", what);
        return -1;
    }
    *out = (PyTypeObject *)Py_NewRef(type);
    return 0;
}

static unsigned kind_class(const char *kind) {
    static const char *class_like[] = {"class", "struct", "interface", "trait", "enum", "impl"};
    for (size_t i = 0; i < sizeof class_like / sizeof *class_like; i++)
        if (strcmp(kind, class_like[i]) == 0) return K_CLASS_LIKE;
    if (strcmp(kind, "module") == 0) return K_MODULE;
    if (strcmp(kind, "function") == 0) return K_FUNCTION;
    if (strcmp(kind, "method") == 0) return K_METHOD;
    if (strcmp(kind, "assignment") == 0) return K_ASSIGNMENT;
    if (!strcmp(kind, "variable") || !strcmp(kind, "constant") || !strcmp(kind, "field"))
        return K_SMALL;
    return 0;
}

/* `describe` called with the query's patterns' (start, end) byte ranges: its (roles, kinds),
 * checked (one byte and one str per pattern). New references, or -1 with an exception set. */
static int described(TSQuery *query, uint32_t patterns, PyObject *describe, PyObject **roles,
                     PyObject **kinds) {
    PyObject *ranges = PyList_New(patterns), *answer = NULL;
    for (uint32_t p = 0; ranges != NULL && p < patterns; p++) {
        PyObject *range = Py_BuildValue("(II)", ts_query_start_byte_for_pattern(query, p),
                                        ts_query_end_byte_for_pattern(query, p));
        if (range == NULL) Py_CLEAR(ranges);
        else PyList_SET_ITEM(ranges, p, range);
    }
    if (ranges != NULL) answer = PyObject_CallOneArg(describe, ranges);
    Py_XDECREF(ranges);
    if (answer == NULL) return -1;
    if (!PyTuple_Check(answer) || PyTuple_GET_SIZE(answer) != 2 ||
        !PyBytes_Check(PyTuple_GET_ITEM(answer, 0)) || !PyTuple_Check(PyTuple_GET_ITEM(answer, 1)) ||
        PyBytes_GET_SIZE(PyTuple_GET_ITEM(answer, 0)) != (Py_ssize_t)patterns ||
        PyTuple_GET_SIZE(PyTuple_GET_ITEM(answer, 1)) != (Py_ssize_t)patterns) {
        Py_DECREF(answer);
        PyErr_SetString(PyExc_ValueError,
                        "describe must return (roles: bytes, kinds: tuple), one per pattern");
        return -1;
    }
    *roles = Py_NewRef(PyTuple_GET_ITEM(answer, 0));
    *kinds = Py_NewRef(PyTuple_GET_ITEM(answer, 1));
    Py_DECREF(answer);
    return 0;
}

static int configure(Extractor *self, PyObject *roles_bytes, PyObject *kinds, const char *flags,
                     Py_ssize_t flag_count, unsigned int body_field, int max_depth);

static int extractor_init(Extractor *self, PyObject *args, PyObject *kwargs) {
    PyObject *capsule, *describe, *roles_bytes = NULL, *kinds = NULL;
    const char *query_source, *flags;
    Py_ssize_t query_length, flag_count;
    unsigned int body_field;
    int max_depth, result = -1;
    PyObject *span_type = Py_None, *definition_type = Py_None;
    static char *keywords[] = {"language",  "query", "describe",   "flags", "body_field",
                               "max_depth", "span",  "definition", NULL};
    if (self->parser != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Extractor is already initialised");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Oy#Oy#Ii|OO", keywords, &capsule,
                                     &query_source, &query_length, &describe, &flags, &flag_count,
                                     &body_field, &max_depth, &span_type, &definition_type))
        return -1;
    if (plain_tuple_type(span_type, "span", &self->span_type) < 0 ||
        plain_tuple_type(definition_type, "definition", &self->definition_type) < 0)
        return -1;
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
    if (described(self->query, self->pattern_count, describe, &roles_bytes, &kinds) < 0)
        return -1;
    result = configure(self, roles_bytes, kinds, flags, flag_count, body_field, max_depth);
    Py_DECREF(roles_bytes);
    Py_DECREF(kinds);
    return result;
}

/* The rest of `extractor_init`, once the query is compiled and described. */
static int configure(Extractor *self, PyObject *roles_bytes, PyObject *kinds, const char *flags,
                     Py_ssize_t flag_count, unsigned int body_field, int max_depth) {
    const char *roles = PyBytes_AS_STRING(roles_bytes);
    Py_ssize_t role_count = PyBytes_GET_SIZE(roles_bytes);
    self->kind_names = calloc(self->pattern_count ? self->pattern_count : 1, sizeof(PyObject *));
    self->kind_classes = calloc(self->pattern_count ? self->pattern_count : 1, sizeof(unsigned));
    if (!self->kind_names || !self->kind_classes) {
        PyErr_NoMemory();
        return -1;
    }
    for (uint32_t p = 0; p < self->pattern_count; p++) {
        PyObject *kind = PyTuple_GET_ITEM(kinds, p);
        if (!PyUnicode_Check(kind)) {
            PyErr_SetString(PyExc_TypeError, "kinds must be str");
            return -1;
        }
        if (PyUnicode_GET_LENGTH(kind) == 0) continue;
        self->kind_names[p] = Py_NewRef(kind);
        PyUnicode_InternInPlace(&self->kind_names[p]);
        self->kind_classes[p] = kind_class(PyUnicode_AsUTF8(kind));
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
    s_function = PyUnicode_InternFromString("function");
    s_method = PyUnicode_InternFromString("method");
    s_constant = PyUnicode_InternFromString("constant");
    s_variable = PyUnicode_InternFromString("variable");
    if (!s_function || !s_method || !s_constant || !s_variable) return NULL;
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
