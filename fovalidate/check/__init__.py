"""Check plugins: the interface (`interface`) and how they are found (`registry`)."""
