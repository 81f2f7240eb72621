; Go import paths, as written: "fmt", "github.com/x/y".

(import_spec path: (_) @import)
