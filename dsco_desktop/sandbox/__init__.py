"""The local DSCO sandbox: an independent implementation of the DSCO v3 API spec."""
