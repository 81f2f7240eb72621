; C++ references beyond C's (read first): qualified and template calls, namespaces in paths.

(call_expression function: (qualified_identifier name: (identifier) @reference.call))

(call_expression
  function: (qualified_identifier name: (template_function name: (identifier) @reference.call)))

(call_expression function: (template_function name: (identifier) @reference.call))

(call_expression function: (field_expression field: (field_identifier) @reference.call))

(new_expression type: (type_identifier) @reference.type)

(qualified_identifier scope: (namespace_identifier) @reference.type)

(template_type name: (type_identifier) @reference.type)

(base_class_clause (type_identifier) @reference.type)
