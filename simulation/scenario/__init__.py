"""What a user writes: the scenario model (pydantic), YAML reading, composition, levers.

Imports nothing else of ``simulation``.
"""
