"""Use cases of Basic Memory Cloud authentication, each reaching the outside only through ports."""
