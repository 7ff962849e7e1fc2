"""The DSCO v3 HTTP client (httpx); no Qt."""
