; TypeScript's `import x = require("y")` (the ES forms are in grammars/ecma/imports.scm).

(import_require_clause source: (string (string_fragment) @import))
