; Names a C file uses (C++ reads this file before its own): called functions and macros, struct
; fields, and types. The extractor drops the identifiers that name a definition.

(call_expression function: (identifier) @reference.call)

(call_expression function: (field_expression field: (field_identifier) @reference.call))

(field_expression field: (field_identifier) @reference.attribute)

(type_identifier) @reference.type

(struct_specifier name: (type_identifier) @reference.type !body)

(union_specifier name: (type_identifier) @reference.type !body)

(enum_specifier name: (type_identifier) @reference.type !body)
