"""HTTP routes: thin handlers that authenticate, call the pipeline and frame the response."""
