"""Sub-commands beyond run/validate/schema, each registering its own parser."""

REGISTER: list = []
