"""Quick order (issue 19): bulk cart operations and lines saved for later."""
