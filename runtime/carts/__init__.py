"""carts"""
