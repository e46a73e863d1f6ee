"""Leaf layer: msgspec Structs only (wire types, config, errors, corpus cases). No I/O."""
