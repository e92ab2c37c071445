"""Links: tokens, the link service (no HTTP) and CloudFront URL signing (pure).

See docs/ARCHITECTURE.md."""
