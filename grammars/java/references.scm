; Names a Java file uses: invoked methods, constructed and declared types, annotations, fields.

(method_invocation name: (identifier) @reference.call)

((method_invocation object: (identifier) @reference.type)
  (#match? @reference.type "^[A-Z]"))

(object_creation_expression type: (_) @reference.type)

(type_identifier) @reference.type

(scoped_type_identifier (type_identifier) @reference.type)

(marker_annotation name: (identifier) @reference.type)

(annotation name: (identifier) @reference.type)

(field_access field: (identifier) @reference.attribute)

(method_reference (identifier) @reference.call .)
