"""Masking sites: which lines `copilot-ls eval` hides, and how it hides them."""

from __future__ import annotations

from pathlib import Path

from copilot_ls.evaluation.sites import (
    SKIP_FIRST_LINES,
    MaskSite,
    candidate_sites,
    mask,
    select_sites,
)
from copilot_ls.index.extract import extract_text
from copilot_ls.index.store import SymbolIndex

PRICING = '''"""Shipping prices."""

RATE_PER_KM = 0.02


def compute_shipping_cost(weight_kg, distance_km):
    """Price in euros of sending a parcel."""
    return round(weight_kg * distance_km * RATE_PER_KM, 2)


class Parcel:
    def __init__(self, weight_kg):
        self.weight_kg = weight_kg
'''

ORDERS = '''"""Orders and what they cost."""

from pricing import Parcel, compute_shipping_cost


def order_total(items, weight_kg, distance_km):
    """The price of an order, shipping included."""
    # Shipping first: it may fail for heavy parcels.
    shipping = compute_shipping_cost(weight_kg, distance_km)
    subtotal = sum(item.price for item in items)

    note = "compute_shipping_cost(weight_kg) is called above"
    parcel = Parcel(weight_kg)  # wrapped for the carrier
    total = local_helper(subtotal) + shipping
    return total + parcel.weight_kg * 0


def local_helper(amount):
    return round(amount, 2)
'''


def index_of(files: dict[str, str]) -> SymbolIndex:
    return SymbolIndex(extract_text(path, text) for path, text in files.items())


def targets(sites: list[MaskSite]) -> list[str]:
    return [site.target for site in sites]


def test_any_mode_keeps_code_lines_and_skips_blank_comment_docstring_import_and_short_lines():
    index = index_of({"/w/orders.py": ORDERS})
    found = targets(candidate_sites("/w/orders.py", ORDERS, index, "any"))
    assert found == [
        "def order_total(items, weight_kg, distance_km):",
        "shipping = compute_shipping_cost(weight_kg, distance_km)",
        "subtotal = sum(item.price for item in items)",
        'note = "compute_shipping_cost(weight_kg) is called above"',
        "total = local_helper(subtotal) + shipping",
        "return total + parcel.weight_kg * 0",
        "def local_helper(amount):",
        "return round(amount, 2)",
    ]


def test_imports_are_not_masked():
    text = "x = 1\n" * SKIP_FIRST_LINES + (
        "import collections.abc\n"
        "from collections import OrderedDict\n"
        "def build():\n"
        "    from functools import partial\n"
        "    return OrderedDict(partial(dict))\n"
    )
    found = targets(candidate_sites("/w/a.py", text, SymbolIndex(), "any"))
    assert found == ["def build():", "return OrderedDict(partial(dict))"]


def test_a_line_with_a_trailing_comment_is_skipped():
    index = index_of({"/w/orders.py": ORDERS})
    found = targets(candidate_sites("/w/orders.py", ORDERS, index, "any"))
    assert not any(line.startswith("parcel = Parcel") for line in found)


def test_the_first_lines_of_a_file_are_never_masked():
    text = "value = compute(1, 2)\n" * (SKIP_FIRST_LINES + 2)
    sites = candidate_sites("/w/a.py", text, SymbolIndex(), "any")
    assert [site.line for site in sites] == [SKIP_FIRST_LINES, SKIP_FIRST_LINES + 1]


def test_cross_file_mode_keeps_only_lines_using_a_name_defined_in_another_file():
    index = index_of({"/w/pricing.py": PRICING, "/w/orders.py": ORDERS})
    sites = candidate_sites("/w/orders.py", ORDERS, index, "cross-file")
    assert targets(sites) == ["shipping = compute_shipping_cost(weight_kg, distance_km)"]
    assert sites[0].cross_file_names == ("compute_shipping_cost",)


def test_names_in_strings_locals_and_same_file_definitions_do_not_count_as_cross_file():
    # `note = "compute_shipping_cost..."` names it only in a string, `local_helper` is defined
    # in the file itself, and `weight_kg` is a local even though pricing.py has such a field.
    index = index_of({"/w/pricing.py": PRICING, "/w/orders.py": ORDERS})
    names = {
        site.target: site.cross_file_names
        for site in candidate_sites("/w/orders.py", ORDERS, index, "any")
    }
    assert names['note = "compute_shipping_cost(weight_kg) is called above"'] == ()
    assert names["total = local_helper(subtotal) + shipping"] == ()


def test_other_languages_skip_their_comments_and_strings_too():
    util = "package shop\n\n// Price of a parcel.\nfunc Price(w int) int {\n\treturn w * 2\n}\n"
    main = (
        'package shop\n\nimport "fmt"\n\nfunc Show(w int) {\n'
        '\t// Price(w) is printed below\n\tmsg := "Price(w) and more text"\n'
        "\tfmt.Println(msg, Price(w))\n}\n"
    )
    index = index_of({"/w/util.go": util, "/w/main.go": main})
    assert targets(candidate_sites("/w/main.go", main, index, "cross-file")) == [
        "fmt.Println(msg, Price(w))"
    ]


def test_mask_removes_the_target_and_keeps_the_indentation_and_the_lines_below():
    target = "shipping = compute_shipping_cost(weight_kg, distance_km)"
    site = MaskSite("/w/orders.py", 8, 4, target)
    document, offset = mask(ORDERS, site)
    line_start = ORDERS.index("    shipping = ")
    assert offset == line_start + 4
    assert document[:offset] == ORDERS[:offset]
    assert document[offset:].startswith("\n    subtotal = sum(")
    assert document == ORDERS.replace(site.target, "", 1)


def test_mask_keeps_a_carriage_return_after_the_cursor():
    text = "a = 1\r\nb = 2\r\n    total = add(a, b)\r\nprint(total)\r\n"
    document, offset = mask(text, MaskSite("/w/a.py", 2, 4, "total = add(a, b)"))
    assert document == "a = 1\r\nb = 2\r\n    \r\nprint(total)\r\n" and offset == 18


def write(folder: Path, files: dict[str, str]) -> SymbolIndex:
    for name, text in files.items():
        (folder / name).write_text(text)
    return index_of({str(folder / name): text for name, text in files.items()})


def many_lines(count: int) -> str:
    body = "".join(f"    value_{i} = compute_shipping_cost({i}, {i + 1})\n" for i in range(count))
    return "from pricing import compute_shipping_cost\n\n\ndef run():\n" + body


def test_the_same_seed_chooses_the_same_sites_and_another_seed_others(tmp_path):
    index = write(tmp_path, {"pricing.py": PRICING, "batch.py": many_lines(40)})
    first = select_sites(index, 5, seed=7)
    again = select_sites(index, 5, seed=7)
    other = select_sites(index, 5, seed=8)
    assert first.sites == again.sites and len(first.sites) == 5
    assert first.sites != other.sites
    assert first.eligible == 40 - (SKIP_FIRST_LINES - 4)  # lines 0..4 are never masked
    assert [s.line for s in first.sites] == sorted(s.line for s in first.sites)


def test_asking_for_more_sites_than_qualify_gives_all_of_them_with_their_texts(tmp_path):
    index = write(tmp_path, {"pricing.py": PRICING, "orders.py": ORDERS})
    selection = select_sites(index, 50)
    assert targets(selection.sites) == ["shipping = compute_shipping_cost(weight_kg, distance_km)"]
    assert selection.texts == {str(tmp_path / "orders.py"): ORDERS}
    assert selection.files_scanned == 2


def test_a_repository_without_code_lines_gives_no_site(tmp_path):
    index = write(tmp_path, {"notes.py": '"""Only a docstring."""\n\n# and comments\n' * 5})
    assert select_sites(index, 3, mode="any").sites == []


def test_lines_with_non_ascii_text_and_windows_newlines_are_read_right():
    text = (
        "x = 1\r\n" * (SKIP_FIRST_LINES - 1)
        + "def f():\r\n"
        + (
            '    prix = "€ " + str(compute_shipping_cost(1, 2))\r\n'
            "    café = compute_shipping_cost(3, 4)  # déjà vu\r\n"
            '    """Un résumé: compute_shipping_cost(5, 6)"""\r\n'
        )
    )
    index = index_of({"/w/pricing.py": PRICING, "/w/prices.py": text})
    sites = candidate_sites("/w/prices.py", text, index, "cross-file")
    assert targets(sites) == ['prix = "€ " + str(compute_shipping_cost(1, 2))']
    document, offset = mask(text, sites[0])
    assert document.split("\r\n")[SKIP_FIRST_LINES] == "    " and document[offset:].startswith(
        "\r\n"
    )


def test_python_builtins_and_builtin_methods_are_not_cross_file_names():
    """`parts.append(x)` calls list.append, not the project's own `def append`."""
    other = "class Sheet:\n    def append(self, row):\n        pass\n\n\n"
    other += "def compute_total(x):\n    pass\n"
    lines = "x = 1\n" * SKIP_FIRST_LINES + (
        "def build(parts, x):\n    parts.append(compute_total(x))\n    parts.append(len(x))\n"
    )
    index = index_of({"/w/sheet.py": other, "/w/build.py": lines})
    sites = candidate_sites("/w/build.py", lines, index, "cross-file")
    assert [(s.target, s.cross_file_names) for s in sites] == [
        ("parts.append(compute_total(x))", ("compute_total",))
    ]
