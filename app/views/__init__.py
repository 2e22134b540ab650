"""Pages of the clinic app; each module exposes render()."""
