; Names a Python file uses: called functions, attribute names, and types.

(call function: (identifier) @reference.call)

(call function: (attribute attribute: (identifier) @reference.call))

(attribute attribute: (identifier) @reference.attribute)

(decorator (identifier) @reference.call)

(decorator (attribute attribute: (identifier) @reference.call))

(type (identifier) @reference.type)

(generic_type (identifier) @reference.type)

(class_definition superclasses: (argument_list (identifier) @reference.type))

(class_definition superclasses: (argument_list (attribute attribute: (identifier) @reference.type)))

(raise_statement (call function: (identifier) @reference.type))

(except_clause (identifier) @reference.type)
