; JSX component references (capitalised element names), read by JavaScript and TSX.

(jsx_opening_element
  name: (identifier) @reference.type
  (#match? @reference.type "^[A-Z]"))

(jsx_self_closing_element
  name: (identifier) @reference.type
  (#match? @reference.type "^[A-Z]"))

(jsx_opening_element name: (member_expression property: (property_identifier) @reference.type))

(jsx_self_closing_element name: (member_expression property: (property_identifier) @reference.type))
