"""The domain: records, build ids, bucket keys, indexes and the ports (store interfaces) (pure).

See docs/ARCHITECTURE.md."""
