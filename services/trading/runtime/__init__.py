"""The Faust app on the updates and model topics, its resources, metrics and entry."""
