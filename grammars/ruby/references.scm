; Names a Ruby file uses: called methods (with a receiver or arguments, so not mistaken for local
; variables), and constants (classes and modules). The extractor drops definition names.

(call method: (identifier) @reference.call)

(call method: (constant) @reference.call)

(constant) @reference.type
