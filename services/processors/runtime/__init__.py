"""The processors' wiring: the batch pipeline, Faust, the pools, Kafka and metrics."""
