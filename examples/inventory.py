"""A small inventory of items with prices, used by the README's first command."""

from dataclasses import dataclass


@dataclass
class Item:
    name: str
    price: float
    quantity: int


def total_value(items: list[Item]) -> float:
    """Return the total value of all items in stock."""
    total = 0.0
    for item in items:
        
