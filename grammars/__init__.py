"""Tree-sitter query files, `<language>/<kind>.scm`; installed as the package
`copilot_ls.grammars` so that `copilot_ls.index.languages` finds them wherever copilot-ls runs."""
