"""Pages other parts of the product plug into the clinic app (each module exposes render())."""
