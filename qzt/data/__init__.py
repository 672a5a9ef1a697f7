"""The platform's own versioned reference data (categories, districts, roles)."""
