"""The package version, in a leaf module every floor can read without loading the API."""

__version__ = "0.1.0"
