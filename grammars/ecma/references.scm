; Names used by JavaScript, TypeScript and TSX code: calls, constructors, member names.

(call_expression function: (identifier) @reference.call)

(call_expression function: (member_expression property: (property_identifier) @reference.call))

(new_expression constructor: (identifier) @reference.type)

(new_expression constructor: (member_expression property: (property_identifier) @reference.type))

(member_expression property: (property_identifier) @reference.attribute)

(decorator (identifier) @reference.call)

(decorator (call_expression function: (identifier) @reference.call))
