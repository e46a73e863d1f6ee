"""Routing: model aliases -> ordered deployments, circuit breakers, and the attempt loop."""
