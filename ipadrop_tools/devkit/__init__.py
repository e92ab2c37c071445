"""Developer tooling: synthetic IPAs and provisioning profiles for tests, the demo
and benchmarks. Never shipped to Lambda; runtime code never imports it."""
