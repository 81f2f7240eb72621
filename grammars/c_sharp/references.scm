; Names a C# file uses: invoked methods, member names, and types where they are used. C# writes
; type names as plain identifiers, so each type position is listed.

(invocation_expression function: (identifier) @reference.call)

(invocation_expression function: (member_access_expression name: (identifier) @reference.call))

(invocation_expression function: (generic_name (identifier) @reference.call))

(invocation_expression
  function: (member_access_expression name: (generic_name (identifier) @reference.call)))

(member_access_expression name: (identifier) @reference.attribute)

((member_access_expression expression: (identifier) @reference.type)
  (#match? @reference.type "^[A-Z]"))

(object_creation_expression type: (identifier) @reference.type)

(base_list (identifier) @reference.type)

(generic_name (identifier) @reference.type)

(type_argument_list (identifier) @reference.type)

(variable_declaration type: (identifier) @reference.type)

(parameter type: (identifier) @reference.type)

(property_declaration type: (identifier) @reference.type)

(method_declaration returns: (identifier) @reference.type)

(nullable_type (identifier) @reference.type)

(array_type type: (identifier) @reference.type)

(attribute name: (identifier) @reference.type)

(type_parameter_constraint (type (identifier) @reference.type))
