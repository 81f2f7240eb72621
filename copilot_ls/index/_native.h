/* Shared by _native.c (trees) and _native_text.c (text rules): see _native.c. */
#ifndef COPILOT_LS_NATIVE_H
#define COPILOT_LS_NATIVE_H
#define PY_SSIZE_T_CLEAN
#undef _POSIX_C_SOURCE /* set for the runtime by setup.py, and by Python.h its own way */
#include <Python.h>
#include <stdint.h>

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

#endif
