; TypeScript type references (the shared call and member references are in grammars/ecma/).
; The extractor drops the identifiers that name a definition, so every type identifier may be
; captured here.

(type_identifier) @reference.type

(extends_clause value: (identifier) @reference.type)

(extends_clause value: (member_expression property: (property_identifier) @reference.type))
