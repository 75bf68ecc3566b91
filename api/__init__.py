"""The Litestar HTTP application and the `fostering` command line."""
