"""Provider adapters: one module per upstream API, each a pure translator (see ``base``)."""
