"""The processors' MySQL layer: one transaction per batch, and the reads around it."""
