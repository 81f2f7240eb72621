; TSX adds JSX to TypeScript (which, with grammars/ecma/, is read first): component references.

(jsx_opening_element
  name: (identifier) @reference.type
  (#match? @reference.type "^[A-Z]"))

(jsx_self_closing_element
  name: (identifier) @reference.type
  (#match? @reference.type "^[A-Z]"))

(jsx_opening_element name: (member_expression property: (property_identifier) @reference.type))

(jsx_self_closing_element name: (member_expression property: (property_identifier) @reference.type))
