"""Extraction turns a file into definitions, imports, references and chunks, in 11 languages."""

import logging
from dataclasses import dataclass

import pytest
from tree_sitter import Query

from copilot_ls.index.extract import MAX_CHUNK_LINES, extract_file, extract_text
from copilot_ls.index.languages import (
    GRAMMARS_DIR,
    LANGUAGES,
    QUERY_KINDS,
    LanguageSpec,
    language_for_path,
    query_source,
)
from copilot_ls.index.model import Chunk


@dataclass(frozen=True)
class Sample:
    path: str
    source: str
    definitions: set[tuple[str, str, str]]
    """Every (kind, container, name) expected, exactly."""
    docs: dict[tuple[str, str], str]
    """(kind, name) -> doc, for names whose doc is asserted."""
    imports: tuple[str, ...]
    references: set[str]
    """Some of the names expected among the references."""


SAMPLES = {
    "python": Sample(
        "/w/geometry/shapes.py",
        '''"""Shapes."""
import os.path
from collections import OrderedDict as OD
from .base import Base

MAX_SIDES = 12
registry: dict[str, int] = {}


def area(shape: "Shape") -> float:
    """Return the area
    of a shape."""
    return shape.width * compute(shape)


class Shape(Base):
    sides: int = 4

    @property
    def width(self) -> float:
        return self._w

    def scale(
        self, factor: float  # how much
    ) -> "Shape":
        def inner():
            pass
        return Shape(factor)
''',
        {
            ("constant", "", "MAX_SIDES"),
            ("variable", "", "registry"),
            ("function", "", "area"),
            ("class", "", "Shape"),
            ("field", "Shape", "sides"),
            ("method", "Shape", "width"),
            ("method", "Shape", "scale"),
            ("function", "", "inner"),
        },
        {("function", "area"): "Return the area\nof a shape."},
        ("os.path", "collections", ".base"),
        {"compute", "width", "_w", "Base", "float", "property"},
    ),
    "javascript": Sample(
        "/w/src/greeter.mjs",
        """import fs from "fs";
import { join } from './util.js';
const path = require("path");

/**
 * Greets a person.
 * @param {string} name
 */
export function greet(name) {
  return format(name).trim();
}

export const MAX = 10;
const shout = (s) => s.toUpperCase();

class Greeter extends Base {
  count = 0;
  /** Says hello. */
  hello(who) {
    return greet(who, new Intl.Locale("en"));
  }
}
""",
        {
            ("variable", "", "path"),
            ("function", "", "greet"),
            ("constant", "", "MAX"),
            ("function", "", "shout"),
            ("class", "", "Greeter"),
            ("field", "Greeter", "count"),
            ("method", "Greeter", "hello"),
        },
        {
            ("function", "greet"): "Greets a person.\n@param {string} name",
            ("method", "hello"): "Says hello.",
        },
        ("fs", "./util.js", "path"),
        {"format", "trim", "toUpperCase", "greet", "Base", "Locale"},
    ),
    "typescript": Sample(
        "/w/src/shapes.ts",
        """import { readFile } from "node:fs/promises";
import type { Config } from "./config";

/** A shape with an area. */
export interface Shape {
  kind: string;
  area(): number;
}

export type Point = { x: number; y: number };
export enum Color { Red, Green }

export class Square implements Shape {
  kind = "square";
  constructor(private side: number) {}
  area(): number {
    return Math.pow(this.side, 2);
  }
}

export const load = async (p: string): Promise<Config> => JSON.parse(await readFile(p, "utf8"));
""",
        {
            ("interface", "", "Shape"),
            ("field", "Shape", "kind"),
            ("method", "Shape", "area"),
            ("type", "", "Point"),
            ("enum", "", "Color"),
            ("class", "", "Square"),
            ("field", "Square", "kind"),
            ("method", "Square", "constructor"),
            ("method", "Square", "area"),
            ("function", "", "load"),
        },
        {("interface", "Shape"): "A shape with an area."},
        ("node:fs/promises", "./config"),
        {"Config", "Promise", "Shape", "pow", "readFile", "parse"},
    ),
    "tsx": Sample(
        "/w/src/Counter.tsx",
        """import React, { useState } from "react";
import { Button } from "./Button";

interface Props { label: string }

// A counter button.
export function Counter({ label }: Props): JSX.Element {
  const [n, setN] = useState<number>(0);
  return <Button onClick={() => setN(n + 1)}>{label}</Button>;
}
""",
        {("interface", "", "Props"), ("field", "Props", "label"), ("function", "", "Counter")},
        {("function", "Counter"): "A counter button."},
        ("react", "./Button"),
        {"Button", "Props", "useState", "setN"},
    ),
    "go": Sample(
        "/w/geometry/rect.go",
        """package geometry

import (
	"fmt"
	m "math"
)

// MaxSides bounds polygons.
const MaxSides = 12

// Shape is anything with an area.
type Shape interface {
	Area() float64
}

type Rect struct {
	W, H float64
}

// Area returns the area.
// It is never negative.
func (r *Rect) Area() float64 {
	return m.Abs(r.W * r.H)
}

func NewRect(w, h float64) *Rect { fmt.Println(w); return &Rect{W: w, H: h} }
""",
        {
            ("constant", "", "MaxSides"),
            ("interface", "", "Shape"),
            ("method", "Shape", "Area"),
            ("struct", "", "Rect"),
            ("field", "Rect", "W"),
            ("field", "Rect", "H"),
            ("method", "Rect", "Area"),
            ("function", "", "NewRect"),
        },
        {
            ("method", "Area"): "Area returns the area.\nIt is never negative.",
            ("interface", "Shape"): "Shape is anything with an area.",
        },
        ("fmt", "math"),
        {"Abs", "Println", "Rect", "float64", "W"},
    ),
    "rust": Sample(
        "/w/src/geometry.rs",
        """use std::collections::{HashMap, HashSet};
use std::fmt;

/// A point in the plane.
/// Immutable.
#[derive(Debug, Clone)]
pub struct Point {
    pub x: f64,
}

pub enum Shape { Circle(f64), Square(f64) }

pub trait Area {
    fn area(&self) -> f64;
}

impl Area for Shape {
    fn area(&self) -> f64 {
        match self { Shape::Circle(r) => PI * r * r, Shape::Square(s) => s.powi(2) }
    }
}

pub const MAX: usize = 3;
type Map = HashMap<String, Point>;
macro_rules! square { ($x:expr) => { $x * $x }; }

pub fn distance(a: &Point, b: &Point) -> f64 {
    println!("{}", helper(a.x - b.x));
    0.0
}
""",
        {
            ("struct", "", "Point"),
            ("field", "Point", "x"),
            ("enum", "", "Shape"),
            ("constant", "Shape", "Circle"),
            ("constant", "Shape", "Square"),
            ("trait", "", "Area"),
            ("method", "Area", "area"),
            ("method", "Shape", "area"),
            ("constant", "", "MAX"),
            ("type", "", "Map"),
            ("macro", "", "square"),
            ("function", "", "distance"),
        },
        {("struct", "Point"): "A point in the plane.\nImmutable."},
        ("std::collections", "std::fmt"),
        {"HashMap", "Point", "Shape", "Area", "powi", "println", "helper", "x"},
    ),
    "java": Sample(
        "/w/src/com/example/Circle.java",
        """package com.example;

import java.util.List;
import static java.lang.Math.PI;

/**
 * A circle.
 */
@Entity
public class Circle extends Shape implements Comparable<Circle> {
    public static final int MAX = 10;
    private double radius;

    /** Creates a circle. */
    public Circle(double radius) { this.radius = radius; }

    @Override
    public double area() { return PI * Math.pow(radius, 2); }
}

interface Shape { double area(); }
enum Color { RED, GREEN }
""",
        {
            ("class", "", "Circle"),
            ("constant", "Circle", "MAX"),
            ("field", "Circle", "radius"),
            ("method", "Circle", "Circle"),
            ("method", "Circle", "area"),
            ("interface", "", "Shape"),
            ("method", "Shape", "area"),
            ("enum", "", "Color"),
            ("constant", "Color", "RED"),
            ("constant", "Color", "GREEN"),
        },
        {("class", "Circle"): "A circle.", ("interface", "Shape"): ""},
        ("java.util.List", "java.lang.Math.PI"),
        {"Comparable", "Entity", "Override", "Math", "pow", "Shape"},
    ),
    "c": Sample(
        "/w/src/geometry.c",
        """#include <math.h>
#include "geometry.h"

#define SQUARE(x) ((x) * (x))

/* A point in the plane. */
typedef struct {
    double x;
    double y;
} Point;

enum color { RED, GREEN };
static int counter = 0;

/**
 * Distance between two points.
 */
double distance(const Point *a, const Point *b)
{
    return sqrt(SQUARE(a->x - b->x));
}
""",
        {
            ("macro", "", "SQUARE"),
            ("struct", "", "Point"),
            ("field", "Point", "x"),
            ("field", "Point", "y"),
            ("enum", "", "color"),
            ("constant", "color", "RED"),
            ("constant", "color", "GREEN"),
            ("variable", "", "counter"),
            ("function", "", "distance"),
        },
        {
            ("struct", "Point"): "A point in the plane.",
            ("function", "distance"): "Distance between two points.",
        },
        ("math.h", "geometry.h"),
        {"sqrt", "SQUARE", "Point", "x"},
    ),
    "cpp": Sample(
        "/w/src/shapes.hpp",
        """#include <vector>
#include "shape.hpp"

namespace geo {

/// Base of all shapes.
class Shape {
public:
    virtual ~Shape() = default;
    virtual double area() const = 0;
    int id;
};

template <typename T>
struct Box : public Shape {
    double area() const override { return helper(value_); }
};

using Shapes = std::vector<Shape*>;
}  // namespace geo

// Computes the area.
double Circle::area() const { return 3.14 * r_ * r_; }
""",
        {
            ("module", "", "geo"),
            ("class", "geo", "Shape"),
            ("method", "Shape", "~Shape"),
            ("method", "Shape", "area"),
            ("field", "Shape", "id"),
            ("struct", "geo", "Box"),
            ("method", "Box", "area"),
            ("type", "geo", "Shapes"),
            ("method", "Circle", "area"),
        },
        {("class", "Shape"): "Base of all shapes.", ("method", "area"): "Computes the area."},
        ("vector", "shape.hpp"),
        {"helper", "vector", "std", "Shape"},
    ),
    "c_sharp": Sample(
        "/w/src/Circle.cs",
        """using System;
using Json = Newtonsoft.Json;

namespace Geometry.Shapes
{
    /// <summary>
    /// A circle.
    /// </summary>
    [Serializable]
    public class Circle : IShape
    {
        public const int MaxRadius = 100;
        private readonly double _radius;
        public string Name => "circle";

        public Circle(double radius) { _radius = radius; }

        public double Area() { return Math.Pow(_radius, 2); }
    }

    public interface IShape { double Area(); }
    public enum Color { Red, Green }
}
""",
        {
            ("module", "", "Geometry.Shapes"),
            ("class", "Geometry.Shapes", "Circle"),
            ("constant", "Circle", "MaxRadius"),
            ("field", "Circle", "_radius"),
            ("field", "Circle", "Name"),
            ("method", "Circle", "Circle"),
            ("method", "Circle", "Area"),
            ("interface", "Geometry.Shapes", "IShape"),
            ("method", "IShape", "Area"),
            ("enum", "Geometry.Shapes", "Color"),
            ("constant", "Color", "Red"),
            ("constant", "Color", "Green"),
        },
        {("class", "Circle"): "A circle."},
        ("System", "Newtonsoft.Json"),
        {"IShape", "Serializable", "Math", "Pow"},
    ),
    "ruby": Sample(
        "/w/lib/geometry.rb",
        """#!/usr/bin/env ruby
require "json"
require_relative "shapes/base"

# Geometry helpers.
module Geometry
  MAX_SIDES = 12

  # A circle with a radius.
  class Circle < Shape
    def initialize(radius)
      @radius = radius
    end

    def self.unit
      new(1).tap { |c| c.freeze }
    end
  end
end

def helper(x) = x * 2
""",
        {
            ("module", "", "Geometry"),
            ("constant", "Geometry", "MAX_SIDES"),
            ("class", "Geometry", "Circle"),
            ("method", "Circle", "initialize"),
            ("method", "Circle", "unit"),
            ("function", "", "helper"),
        },
        {
            ("module", "Geometry"): "Geometry helpers.",
            ("class", "Circle"): "A circle with a radius.",
        },
        ("json", "shapes/base"),
        {"Shape", "tap", "freeze", "new"},
    ),
}


def test_every_registered_language_has_a_sample_here():
    assert set(SAMPLES) == {spec.name for spec in LANGUAGES}


@pytest.mark.parametrize("spec", LANGUAGES, ids=lambda s: s.name)
def test_each_query_file_compiles_against_its_installed_grammar(spec: LanguageSpec):
    language = spec.language()
    assert language is not None, f"grammar wheel {spec.module} is not installed"
    for kind in QUERY_KINDS:
        source = query_source(spec, kind)
        assert source is not None, f"grammars/{spec.name}/{kind}.scm is missing"
        Query(language, source)  # raises QueryError on a bad node type, field or predicate


def test_every_query_file_belongs_to_some_language():
    folders = {name for spec in LANGUAGES for name in (*spec.inherits, spec.name)}
    for path in GRAMMARS_DIR.glob("*/*.scm"):
        assert path.parent.name in folders and path.stem in QUERY_KINDS, path


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_gives_its_definitions_docs_imports_and_references(name: str):
    sample = SAMPLES[name]
    symbols = extract_file(sample.path, sample.source.encode())
    assert symbols.language == name
    found = {(d.kind, d.container, d.name) for d in symbols.definitions}
    assert found == sample.definitions
    docs = {(d.kind, d.name): d.doc for d in symbols.definitions}
    for key, doc in sample.docs.items():
        assert docs[key] == doc, key
    assert symbols.imports == sample.imports
    assert sample.references <= symbols.references
    lines = sample.source.split("\n")
    assert symbols.chunks
    assert all(
        lines[c.start_line].strip() and lines[c.end_line - 1].strip() for c in symbols.chunks
    )


def test_signature_is_the_head_on_one_line_without_body_or_comments():
    symbols = extract_file("/w/a.py", SAMPLES["python"].source.encode())
    signatures = {d.name: d.signature for d in symbols.definitions}
    assert signatures["area"] == 'def area(shape: "Shape") -> float:'
    assert signatures["scale"] == 'def scale(self, factor: float) -> "Shape":'
    assert signatures["Shape"] == "class Shape(Base):"
    go = extract_file("/w/a.go", SAMPLES["go"].source.encode())
    assert {d.name: d.signature for d in go.definitions}["Rect"] == "type Rect struct"


def test_a_name_that_names_a_definition_is_not_counted_as_its_reference():
    symbols = extract_file("/w/a.go", b"package p\ntype Only struct{}\nfunc f(x Used) {}\n")
    assert "Used" in symbols.references and "Only" not in symbols.references


def test_references_are_the_words_used_outside_the_definitions_own_names():
    source = b"LIMIT = 10\n\n\ndef f(x):\n    return helper(x) + LIMIT  # see 42\n"
    symbols = extract_file("/w/a.py", source)
    assert {"helper", "x", "LIMIT", "see"} <= symbols.references
    assert "f" not in symbols.references  # defined, never used
    assert not any(name[0].isdigit() for name in symbols.references)


def test_definitions_nested_deeper_than_the_language_depth_limit_are_left_out():
    source = """class Outer:
    class Inner:
        @property
        def decorated(self):
            pass

        def method(self):
            def local():
                def deeper():
                    pass
"""
    spec = language_for_path("/w/a.py")
    assert spec is not None and spec.max_depth is not None
    symbols = extract_file("/w/a.py", source.encode())
    found = {(d.kind, d.container, d.name) for d in symbols.definitions}
    assert found == {
        ("class", "", "Outer"),
        ("class", "Outer", "Inner"),
        ("method", "Inner", "decorated"),  # one level deeper than its decorators
        ("method", "Inner", "method"),
    }


def test_a_comment_is_a_doc_only_on_the_line_just_above():
    source = (
        b"x = a / b\ndef f():\n    pass\n"
        b"# about g\n\ndef g():\n    pass\n"
        b"# about h\ndef h():\n    pass\n"
    )
    docs = {d.name: d.doc for d in extract_file("/w/a.py", source).definitions}
    assert docs == {"x": "", "f": "", "g": "", "h": "about h"}


def test_file_facts_are_recorded():
    data = b"x = 1\n"
    symbols = extract_file("/w/a.py", data, mtime_ns=42)
    assert (symbols.path, symbols.size, symbols.mtime_ns) == ("/w/a.py", 6, 42)
    assert len(symbols.content_hash) == 32
    assert symbols.content_hash != extract_file("/w/a.py", b"x = 2\n").content_hash


def test_extract_text_matches_extract_file():
    source = SAMPLES["rust"].source
    assert extract_text("/w/a.rs", source) == extract_file("/w/a.rs", source.encode())


def test_spans_count_code_points_not_bytes():
    symbols = extract_file("/w/a.py", "s = 'é'; t = 'ü'\nclass Ä:\n    pass\n".encode())
    (cls,) = [d for d in symbols.definitions if d.kind == "class"]
    assert (cls.span.start_line, cls.span.start_col) == (1, 0)
    symbols = extract_file("/w/a.go", "package p\nvar é, x = 1, 2\n".encode())
    (x,) = [d for d in symbols.definitions if d.name == "x"]
    assert x.span.start_col == 4


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("/w/Rakefile", "ruby"),
        ("/w/types.d.ts", "typescript"),
        ("/w/App.TSX", "tsx"),
        ("/w/lib.h", "cpp"),
        ("/w/main.c", "c"),
        ("/w/Program.cs", "c_sharp"),
        ("/w/notes.txt", None),
        ("/w/Makefile", None),
    ],
)
def test_language_is_chosen_from_the_file_name(path: str, language: str | None):
    spec = language_for_path(path)
    assert (spec.name if spec else None) == language


def test_a_missing_grammar_wheel_degrades_to_no_language_with_a_log_line(caplog):
    spec = LanguageSpec("cobol", (".cob",), "tree_sitter_cobol_not_installed")
    with caplog.at_level(logging.WARNING):
        assert spec.language() is None
        assert spec.parser() is None and spec.queries() is None
    assert "pip install tree-sitter-cobol-not-installed" in caplog.text


def test_unknown_extension_is_text_with_blank_line_chunks():
    paragraphs = ["\n".join(f"line {p}.{i}" for i in range(15)) for p in range(6)]
    text = "\n\n".join(paragraphs)
    symbols = extract_file("/w/notes.txt", text.encode())
    assert symbols.language == "text"
    assert symbols.definitions == () and symbols.imports == () and not symbols.references
    assert len(symbols.chunks) >= 3
    assert all(c.end_line - c.start_line <= MAX_CHUNK_LINES for c in symbols.chunks)
    lines = text.split("\n")
    assert lines[symbols.chunks[0].start_line] == "line 0.0"
    assert lines[symbols.chunks[1].start_line].startswith("line ")


def test_invalid_utf8_is_replaced_and_still_parsed():
    data = b"def f():\n    return '\xff\xfe'\n\ndef g():\n    pass\n"
    symbols = extract_file("/w/bad.py", data)
    assert [d.name for d in symbols.definitions] == ["f", "g"]
    assert symbols.chunks[:2] == (Chunk(0, 2), Chunk(3, 5))
    assert symbols.size == len(data)


def test_top_level_definitions_start_chunks_and_long_classes_split_at_methods():
    body = "".join(f"        x = {j}\n" for j in range(8))
    methods = "\n".join(f"    def m{i}(self):\n{body}" for i in range(10))
    source = f"import os\n\n\ndef first():\n    pass\n\n\nclass Big:\n{methods}\n"
    symbols = extract_file("/w/big.py", source.encode())
    starts = [c.start_line for c in symbols.chunks]
    assert starts[:3] == [0, 3, 7]
    assert len(symbols.chunks) > 3
    assert all(c.end_line - c.start_line <= MAX_CHUNK_LINES for c in symbols.chunks)
    assert all(
        symbols.chunks[k].start_line >= symbols.chunks[k - 1].end_line
        for k in range(1, len(symbols.chunks))
    )


def test_a_five_thousand_line_file_is_extracted_whole():
    functions = [
        f"def f{i}(a, b):\n    '''Doc {i}.'''\n    return helper(a) + b\n\n" for i in range(1250)
    ]
    source = "".join(functions)
    assert source.count("\n") == 5000
    symbols = extract_file("/w/long.py", source.encode())
    assert len(symbols.definitions) == 1250
    assert symbols.definitions[-1].doc == "Doc 1249."
    assert symbols.chunks[-1].end_line <= 5000
    assert "helper" in symbols.references


def test_module_assignments_are_constants_only_when_their_names_are_upper_case():
    source = b"MAX = 1\n_LIMIT_2 = 2\nMixed = 3\nlower = 4\n_ = 5\n\xc3\x84BC = 6\n"
    kinds = {d.name: d.kind for d in extract_file("/w/a.py", source).definitions}
    assert kinds == {
        "MAX": "constant",
        "_LIMIT_2": "constant",
        "Mixed": "variable",
        "lower": "variable",
        "_": "variable",
        "ÄBC": "variable",
    }


def test_a_wrapped_definitions_signature_stops_at_its_body_despite_comments_inside():
    source = b"export class Result extends Base<\n  State\n> {\n  // in the body\n  run() {}\n}\n"
    signatures = {d.name: d.signature for d in extract_file("/w/a.ts", source).definitions}
    assert signatures["Result"] == "export class Result extends Base< State >"


def test_a_comment_inside_a_multi_line_head_is_left_out_of_the_signature():
    source = b"def area(\n    width,  # metres\n    height,\n):\n    pass\n"
    (definition,) = extract_file("/w/a.py", source).definitions
    assert definition.signature == "def area(width, height,):"


@pytest.mark.parametrize(
    "docstring",
    [
        '"""One line."""',
        '"""\n    Summary.\n\n      Indented more.\n    """',
        '"""Summary.\n\tTabbed.\n  \n    Last.\n\n"""',
        "'''\n\n\n'''",
    ],
)
def test_docstrings_are_cleaned_as_inspect_cleandoc_cleans_them(docstring: str):
    import inspect

    source = f"def f():\n    {docstring}\n".encode()
    (definition,) = extract_file("/w/a.py", source).definitions
    assert definition.doc == inspect.cleandoc(docstring.strip("\"'"))


def test_python_names_imported_from_a_package_are_also_imported_as_its_modules():
    """`from . import events` imports the module `.events` as far as anyone can tell from
    the text, and resolves to events.py beside the file; from another package only lower-case
    names count (`models`, not the class `Thing` or the constant `LIMIT`)."""
    from copilot_ls.context.candidates import imported_files
    from copilot_ls.index.store import SymbolIndex

    text = (
        "from . import events, constants as c\n"
        "from .. import base\n"
        "from app import models, Thing, LIMIT\n"
        "from .x import y\n"
    )
    symbols = extract_text("/w/app/pkg/m.py", text)
    assert symbols.imports == (
        ".",
        ".events",
        ".constants",
        "..",
        "..base",
        "app",
        "app.models",
        ".x",
        ".x.y",
    )
    files = {
        "/w/app/pkg/events.py": "def emit():\n    pass\n",
        "/w/app/pkg/constants.py": "LIMIT = 1\n",
        "/w/app/base.py": "class Base:\n    pass\n",
        "/w/app/models.py": "class Model:\n    pass\n",
    }
    index = SymbolIndex([symbols, *(extract_text(p, t) for p, t in files.items())])
    assert imported_files(symbols, "/w/app/pkg/m.py", "/w", index) == [
        "/w/app/pkg/events.py",
        "/w/app/pkg/constants.py",
        "/w/app/base.py",
        "/w/app/models.py",
    ]
