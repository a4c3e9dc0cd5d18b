"""The inventory file: servers, planned failover relationships and relays."""

from fovalidate.inventory.loader import (
    InventoryError,
    InventoryProblem,
    LoadedInventory,
    load_inventory,
    parse_inventory,
)

__all__ = ["InventoryError", "InventoryProblem", "LoadedInventory", "load_inventory", "parse_inventory"]
