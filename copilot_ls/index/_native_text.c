/* Text rules of native extraction: the signature line and the referenced words, as
 * `definition_text.signature_text` and `definitions.references` compute them (see _native.c). */
#include "_native.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SIGNATURE_CHARS 200

static inline int byte_space(unsigned char c) { /* bytes.rstrip's whitespace */
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static inline int str_space(unsigned char c) { /* str.split's, for ASCII */
    return byte_space(c) || (c >= 0x1c && c <= 0x1f);
}

static int starts_comment(const char *head, size_t length) {
    for (size_t i = 0; i < length; i++) {
        char c = head[i], next = i + 1 < length ? head[i + 1] : 0;
        if (c == '#' || (c == '/' && (next == '/' || next == '*')) || (c == '-' && next == '-') ||
            (c == '<' && next == '!') ||
            (c == '=' && length - i >= 6 && memcmp(head + i, "=begin", 6) == 0))
            return 1;
    }
    return 0;
}

static size_t rstripped(const char *source, size_t start, size_t stop) {
    while (stop > start && byte_space((unsigned char)source[stop - 1])) stop--;
    return stop;
}

int native_head_needs_cuts(const char *source, uint32_t start, long body_start) {
    if (body_start <= (long)start) return 0;
    size_t stop = rstripped(source, start, (size_t)body_start);
    return memchr(source + start, '\n', stop - start) != NULL &&
           starts_comment(source + start, stop - start);
}

/* Appends [from, to) of `source` to `out`, whitespace runs collapsed to one space (a leading
 * one kept only after earlier text); 0 on non-ASCII text. */
static int append_collapsed(char *out, size_t *length, const char *source, size_t from,
                            size_t to) {
    for (size_t i = from; i < to; i++) {
        unsigned char c = (unsigned char)source[i];
        if (c >= 0x80) return 0;
        if (str_space(c)) {
            if (*length && out[*length - 1] != ' ') out[(*length)++] = ' ';
        } else {
            out[(*length)++] = (char)c;
        }
    }
    return 1;
}

PyObject *native_signature(const char *source, uint32_t start, uint32_t end, long body_start,
                           int strip_brace, const uint32_t *cuts, size_t cut_count) {
    size_t stop;
    if (body_start > (long)start) {
        stop = rstripped(source, start, (size_t)body_start);
    } else {
        const char *line_end = memchr(source + start, '\n', end - start);
        stop = rstripped(source, start, line_end ? (size_t)(line_end - source) : end);
        if (strip_brace && stop > start && source[stop - 1] == '{') stop--;
    }
    char small[512], *out = stop - start + 1 <= sizeof small ? small : malloc(stop - start + 1);
    if (out == NULL) return PyErr_NoMemory();
    size_t length = 0, at = start;
    int ascii = 1;
    for (size_t i = 0; ascii && i < cut_count; i++) { /* comments out, a space where each was */
        ascii = append_collapsed(out, &length, source, at, cuts[2 * i] < stop ? cuts[2 * i] : stop);
        if (length && out[length - 1] != ' ') out[length++] = ' ';
        if (cuts[2 * i + 1] > at) at = cuts[2 * i + 1];
    }
    if (ascii && at < stop) ascii = append_collapsed(out, &length, source, at, stop);
    PyObject *result = NULL;
    if (ascii) {
        if (length && out[length - 1] == ' ') length--;
        size_t kept = 0; /* "( " -> "(", then " )" -> ")" */
        for (size_t i = 0; i < length; i++) {
            if (out[i] == ' ' && kept && out[kept - 1] == '(') continue;
            out[kept++] = out[i];
        }
        length = 0;
        for (size_t i = 0; i < kept; i++) {
            if (out[i] == ' ' && i + 1 < kept && out[i + 1] == ')') continue;
            out[length++] = out[i];
        }
        if (length > MAX_SIGNATURE_CHARS) {
            PyObject *head = PyUnicode_FromStringAndSize(out, MAX_SIGNATURE_CHARS - 1);
            PyObject *ellipsis = PyUnicode_FromOrdinal(0x2026);
            result = head && ellipsis ? PyUnicode_Concat(head, ellipsis) : NULL;
            Py_XDECREF(head);
            Py_XDECREF(ellipsis);
        } else {
            result = PyUnicode_FromStringAndSize(out, (Py_ssize_t)length);
        }
    }
    if (out != small) free(out);
    return result;
}

/* ---- references ---------------------------------------------------------------------------- */

typedef struct {
    uint32_t start, length; /* length 0: an empty slot */
    uint64_t hash;
} Word;

typedef struct {
    Word *slots;
    size_t capacity, count;
} WordSet;

static unsigned char WORD_BYTES[256]; /* 1 for the bytes identifiers are made of */

static void init_word_bytes(void) {
    for (int c = 0; c < 256; c++)
        WORD_BYTES[c] = c >= 0x80 || c == '_' || (c >= '0' && c <= '9') ||
                        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int word_set_grow(WordSet *set) {
    size_t capacity = set->capacity ? set->capacity * 2 : 512;
    Word *slots = calloc(capacity, sizeof(Word));
    if (slots == NULL) return -1;
    for (size_t i = 0; i < set->capacity; i++) {
        Word word = set->slots[i];
        if (!word.length) continue;
        size_t at = word.hash & (capacity - 1);
        while (slots[at].length) at = (at + 1) & (capacity - 1);
        slots[at] = word;
    }
    free(set->slots);
    set->slots = slots;
    set->capacity = capacity;
    return 0;
}

/* Adds the word; 1 when it is new, 0 when already there, -1 when out of memory. */
static int word_set_add(WordSet *set, const char *source, Word word) {
    if ((set->count + 1) * 2 > set->capacity && word_set_grow(set) < 0) return -1;
    size_t at = word.hash & (set->capacity - 1);
    while (set->slots[at].length) {
        Word other = set->slots[at];
        if (other.hash == word.hash && other.length == word.length &&
            memcmp(source + other.start, source + word.start, word.length) == 0)
            return 0;
        at = (at + 1) & (set->capacity - 1);
    }
    set->slots[at] = word;
    set->count++;
    return 1;
}

PyObject *native_references(const char *source, size_t length, const uint32_t *ranges,
                            size_t range_count) {
    static int ready;
    if (!ready) {
        init_word_bytes();
        ready = 1;
    }
    const unsigned char *bytes = (const unsigned char *)source;
    WordSet set = {0};
    char *blob = malloc(length + 1);
    size_t size = 0, next_range = 0, at = 0;
    PyObject *result = NULL;
    if (blob == NULL) goto done;
    while (at < length) {
        while (next_range < range_count && ranges[2 * next_range] < at) next_range++;
        size_t stop = next_range < range_count ? ranges[2 * next_range] : length;
        if (stop == at) {
            if (ranges[2 * next_range + 1] > at) at = ranges[2 * next_range + 1];
            next_range++; /* an empty one still parts the words on either side */
            continue;     /* a definition's own name: not a reference */
        }
        while (at < stop && !WORD_BYTES[bytes[at]]) at++;
        if (at == stop) continue;
        size_t end = at;
        uint64_t hash = 1469598103934665603ULL; /* FNV-1a, as the word is read */
        while (end < stop && WORD_BYTES[bytes[end]]) hash = (hash ^ bytes[end++]) * 1099511628211ULL;
        if (!(bytes[at] >= '0' && bytes[at] <= '9')) {
            int added = word_set_add(&set, source, (Word){(uint32_t)at, (uint32_t)(end - at), hash});
            if (added < 0) goto done;
            if (added) {
                if (size) blob[size++] = '\n';
                memcpy(blob + size, source + at, end - at);
                size += end - at;
            }
        }
        at = end;
    }
    result = PyBytes_FromStringAndSize(blob, (Py_ssize_t)size);
done:
    free(set.slots);
    free(blob);
    if (result == NULL && !PyErr_Occurred()) PyErr_NoMemory();
    return result;
}

/* ---- blank lines --------------------------------------------------------------------------- */

/* Whether the line [start, end) holds no more than str.isspace() whitespace, with Python's
 * rules for a line of non-ASCII text; -1 on error. */
static int blank_line(const char *source, size_t start, size_t end) {
    int ascii = 1;
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)source[i];
        if (c >= 0x80) ascii = 0;
        else if (!str_space(c)) return 0;
    }
    if (ascii) return 1;
    PyObject *line = PyUnicode_DecodeUTF8(source + start, (Py_ssize_t)(end - start), "replace");
    if (line == NULL) return -1;
    int blank = 1;
    for (Py_ssize_t i = 0; blank && i < PyUnicode_GET_LENGTH(line); i++)
        blank = Py_UNICODE_ISSPACE(PyUnicode_READ_CHAR(line, i));
    Py_DECREF(line);
    return blank;
}

PyObject *native_blank_lines(const char *source, size_t length, Py_ssize_t *line_count) {
    PyObject *blank = PyList_New(0);
    Py_ssize_t row = 0;
    for (size_t start = 0; blank != NULL; row++) {
        const char *newline = memchr(source + start, '\n', length - start);
        size_t end = newline ? (size_t)(newline - source) : length;
        int is_blank = blank_line(source, start, end);
        PyObject *number = is_blank > 0 ? PyLong_FromSsize_t(row) : NULL;
        if (is_blank < 0 || (is_blank && (number == NULL || PyList_Append(blank, number) < 0)))
            Py_CLEAR(blank);
        Py_XDECREF(number);
        if (newline == NULL) break;
        start = end + 1;
    }
    *line_count = row + 1;
    return blank;
}
