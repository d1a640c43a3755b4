"""Inventory: warehouses, stock levels, reservations on the declared ``reservation`` machine."""
