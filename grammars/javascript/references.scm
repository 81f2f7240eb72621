; JavaScript-only references: superclasses and JSX components (capitalised element names).

(class_heritage (identifier) @reference.type)

(class_heritage (member_expression property: (property_identifier) @reference.type))

(jsx_opening_element
  name: (identifier) @reference.type
  (#match? @reference.type "^[A-Z]"))

(jsx_self_closing_element
  name: (identifier) @reference.type
  (#match? @reference.type "^[A-Z]"))

(jsx_opening_element name: (member_expression property: (property_identifier) @reference.type))

(jsx_self_closing_element name: (member_expression property: (property_identifier) @reference.type))
