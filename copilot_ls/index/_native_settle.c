/* Settling native extraction's definitions as `definitions.settle` does (see _native.h). */
#include "_native.h"

#include <stdlib.h>

static inline int has_container(const Def *def) {
    return def->container != NULL && PyUnicode_GET_LENGTH(def->container) > 0;
}

typedef struct {
    uint32_t key;
    size_t slot;
    int used;
} Claim;

typedef struct {
    uint32_t start, end;
    int is_def;     /* scopes (0) before definitions at the same place */
    size_t position; /* in the scopes, or in the sorted definitions: ties keep that order */
    long line;
    unsigned kind;
} Item;

static int by_start(const void *a, const void *b) {
    const Item *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->is_def != y->is_def) return x->is_def - y->is_def;
    return x->position < y->position ? -1 : x->position > y->position;
}

static int by_nesting(const void *a, const void *b) { /* outer before inner */
    const Item *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end > y->end ? -1 : 1;
    if (x->is_def != y->is_def) return x->is_def - y->is_def;
    return x->position < y->position ? -1 : x->position > y->position;
}

typedef struct {
    uint32_t end;
    PyObject *name; /* borrowed; NULL: a function, which no container name passes through */
    unsigned kind;
} Frame;

static int append_long(PyObject *list, long value) {
    PyObject *number = PyLong_FromLong(value);
    int failed = number == NULL || PyList_Append(list, number) < 0;
    Py_XDECREF(number);
    return failed ? -1 : 0;
}

static void resolve_containers(Def *defs, const size_t *order, size_t count, Item *items,
                               size_t item_count, const ScopeRec *scopes, Frame *stack,
                               PyObject *function, PyObject *method) {
    size_t depth = 0;
    for (size_t i = 0; i < item_count; i++) {
        Item item = items[i];
        while (depth && (stack[depth - 1].end < item.end || stack[depth - 1].end <= item.start))
            depth--; /* ends before this item does: not around it */
        if (!item.is_def) {
            stack[depth++] = (Frame){item.end, scopes[item.position].name, K_CLASS_LIKE};
            continue;
        }
        Def *def = &defs[order[item.position]];
        unsigned container_kind = has_container(def) ? K_CLASS_LIKE : 0;
        if (!has_container(def) && depth && stack[depth - 1].name != NULL) {
            Py_XSETREF(def->container, Py_NewRef(stack[depth - 1].name));
            container_kind = stack[depth - 1].kind;
        }
        if (def->kind & (K_CLASS_LIKE | K_MODULE))
            stack[depth++] = (Frame){item.end, def->name, def->kind};
        else if (def->kind & (K_FUNCTION | K_METHOD))
            stack[depth++] = (Frame){item.end, NULL, def->kind};
        if ((def->kind & K_METHOD) && !has_container(def)) {
            def->kind = K_FUNCTION;
            def->kind_name = function;
        } else if ((def->kind & K_FUNCTION) && (container_kind & K_CLASS_LIKE)) {
            def->kind = K_METHOD;
            def->kind_name = method;
        }
    }
    (void)count;
}

int native_settle(Def *defs, size_t def_count, const ScopeRec *scopes, size_t scope_count,
                  PyObject *function, PyObject *method, size_t *order, size_t *count,
                  PyObject **starts, PyObject **lines) {
    size_t capacity = 16, claimed = 0, total = def_count + scope_count;
    while (capacity < 2 * def_count) capacity <<= 1;
    Claim *claims = calloc(capacity, sizeof(Claim));
    Item *items = malloc((total ? total : 1) * sizeof(Item));
    Frame *stack = malloc((total ? total : 1) * sizeof(Frame));
    size_t *sorted = malloc((def_count ? def_count : 1) * sizeof(size_t));
    int result = -1;
    *starts = *lines = NULL;
    if (!claims || !items || !stack || !sorted) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t i = 0; i < def_count; i++) { /* one per name start */
        uint32_t key = defs[i].name_start;
        size_t at = (key * 2654435761u) & (capacity - 1);
        while (claims[at].used && claims[at].key != key) at = (at + 1) & (capacity - 1);
        if (!claims[at].used) {
            claims[at] = (Claim){key, claimed, 1};
            order[claimed++] = i;
        } else if (defs[order[claims[at].slot]].pattern > defs[i].pattern) {
            order[claims[at].slot] = i;
        }
    }
    for (size_t k = 0; k < claimed; k++) /* by start byte, ties in claim order */
        items[k] = (Item){defs[order[k]].start_byte, 0, 1, k, 0, 0};
    qsort(items, claimed, sizeof(Item), by_start);
    for (size_t k = 0; k < claimed; k++) sorted[k] = order[items[k].position];
    memcpy(order, sorted, claimed * sizeof(size_t));
    *count = claimed;

    int increasing = scope_count == 0;
    for (size_t k = 1; increasing && k < claimed; k++)
        increasing = defs[order[k - 1]].start_byte < defs[order[k]].start_byte;
    size_t item_count = 0;
    for (size_t s = 0; !increasing && s < scope_count; s++)
        items[item_count++] = (Item){scopes[s].start_byte, scopes[s].end_byte, 0, s, 0, 0};
    for (size_t k = 0; k < claimed; k++)
        items[item_count++] = (Item){defs[order[k]].start_byte, defs[order[k]].end_byte, 1, k,
                                     0, 0};
    if (!increasing) qsort(items, item_count, sizeof(Item), by_nesting);
    resolve_containers(defs, order, claimed, items, item_count, scopes, stack, function, method);

    item_count = 0; /* the blocks: scopes first among those starting together */
    for (size_t s = 0; s < scope_count; s++)
        items[item_count++] = (Item){scopes[s].start_byte, scopes[s].end_byte, 0, s,
                                     scopes[s].line, K_CLASS_LIKE};
    for (size_t k = 0; k < claimed; k++) {
        Def *def = &defs[order[k]];
        items[item_count++] =
            (Item){def->start_byte, def->end_byte, 1, k, def->block_line, def->kind};
    }
    if (scope_count) qsort(items, item_count, sizeof(Item), by_start);
    *starts = PyList_New(0);
    *lines = PyList_New(0);
    if (*starts == NULL || *lines == NULL) goto done;
    long covered_to = -1;
    for (size_t i = 0; i < item_count; i++) {
        if ((long)items[i].start >= covered_to && !(items[i].kind & K_SMALL)) {
            if (append_long(*starts, items[i].line) < 0) goto done;
            covered_to = items[i].end;
        }
        if (append_long(*lines, items[i].line) < 0) goto done;
    }
    result = 0;
done:
    if (result < 0) {
        Py_CLEAR(*starts);
        Py_CLEAR(*lines);
    }
    free(claims);
    free(items);
    free(stack);
    free(sorted);
    return result;
}
