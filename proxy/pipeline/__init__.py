"""The request path: the per-stream plan (sync stages), the relay, collection, and the chat pipeline."""
