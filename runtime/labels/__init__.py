"""Product labels: the label index, per-request batch resolution, the background relabel."""
