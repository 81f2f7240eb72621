; Files a Ruby script loads: `require "json"`, `require_relative "shapes/base"`, `load "x.rb"`.

(call
  method: (identifier) @_loader
  arguments: (argument_list . (string (string_content) @import))
  (#any-of? @_loader "require" "require_relative" "load"))
